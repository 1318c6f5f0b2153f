"""Extraction on a Dask cluster with the fake backends equals the single-machine pipeline, and resumes."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "extract"))
from fakes import FakeDetector, FakeEmbedder, embedded_count, synthetic_image  # noqa: E402

from facemetric.extract import PipelineSpec, extract_descriptors, folder_images  # noqa: E402
from facemetric.errors import InputError  # noqa: E402
from facemetric.io import load_descriptors  # noqa: E402
from facemetric.scale import dask_client, extract_descriptors_on_dask, extract_to_file_on_dask  # noqa: E402

SPEC = PipelineSpec(detector=FakeDetector, embedder=FakeEmbedder, flip=True)
GOOD = [f"{p}/{p}_{i:04d}.png" for p in ("Ann", "Bob", "Cid", "Dee") for i in (1, 2, 3)]


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=2, processes=False) as c:
        yield c


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """12 good images, a corrupt file, an image with no face and one with a tiny face."""
    root = tmp_path / "images"
    for seed, rel in enumerate(GOOD):
        synthetic_image(root / rel, seed)
    (root / "Eve").mkdir()
    (root / "Eve" / "Eve_0001.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    synthetic_image(root / "Fay" / "Fay_0001.png", 20, face=None)
    synthetic_image(root / "Gus" / "Gus_0001.png", 21, face=8)
    return root


@pytest.fixture
def embed_log(tmp_path, monkeypatch) -> Path:
    log = tmp_path / "embed.log"
    monkeypatch.setenv("FAKE_EMBED_LOG", str(log))
    return log


def test_equals_single_machine_pipeline(client, tree):
    items = folder_images(tree)
    reference = extract_descriptors(items, SPEC, workers=1, batch_size=4)
    got = extract_descriptors_on_dask(client, items, SPEC, batch_size=3)
    assert got.descriptors.ids.tolist() == reference.descriptors.ids.tolist() == GOOD
    assert got.descriptors.labels.tolist() == reference.descriptors.labels.tolist()
    np.testing.assert_array_equal(got.descriptors.X, reference.descriptors.X)
    np.testing.assert_array_equal(got.descriptors.X_flip, reference.descriptors.X_flip)
    assert got.descriptors.provenance == reference.descriptors.provenance
    assert [(f.id, f.reason) for f in got.failures] == [(f.id, f.reason) for f in reference.failures]
    assert {f.reason for f in got.failures} == {"unreadable", "no face", "tiny face"}
    assert (got.n_images, got.n_cached, got.n_processed) == (15, 0, 15)


def test_cache_is_shared_with_the_single_machine_pipeline_and_resumes(client, tree, tmp_path, embed_log):
    items = folder_images(tree)
    cache = tmp_path / "cache"
    half = items[:7]
    extract_descriptors(half, SPEC, cache_dir=cache, workers=1)  # a run "stopped" after 7 images
    n_first = embedded_count(embed_log)
    out = tmp_path / "out" / "faces.npz"
    result, report = extract_to_file_on_dask(client, items, SPEC, out, cache_dir=cache, batch_size=2)
    assert result.n_cached == 7 and result.n_processed == 8
    # only the 8 new images were embedded (each with its flip): none of the cached ones again
    n_new_ok = sum(1 for it in items[7:] if it.id in GOOD)
    assert embedded_count(embed_log) - n_first == 2 * n_new_ok
    ds = load_descriptors(out)
    assert ds.ids.tolist() == GOOD
    assert report.read_text().count("\n") == 1 + 3
    again = extract_descriptors_on_dask(client, items, SPEC, cache_dir=cache)
    assert (again.n_cached, again.n_processed) == (15, 0)
    assert embedded_count(embed_log) - n_first == 2 * n_new_ok
    np.testing.assert_array_equal(again.descriptors.X, ds.X)


def test_each_worker_builds_its_processor_once(client, tree):
    built = []

    class CountingEmbedder(FakeEmbedder):
        def __init__(self):
            built.append(1)
            super().__init__()

    spec = PipelineSpec(detector=FakeDetector, embedder=CountingEmbedder)
    extract_descriptors_on_dask(client, folder_images(tree), spec, batch_size=1)
    assert 1 <= len(built) <= 2  # 15 batches, 2 workers


def test_bad_inputs(client, tree, tmp_path):
    items = folder_images(tree)
    with pytest.raises(InputError, match="no images to extract"):
        extract_descriptors_on_dask(client, [], SPEC)
    with pytest.raises(InputError, match="given twice"):
        extract_descriptors_on_dask(client, [items[0], items[0]], SPEC)
    bad = items[-3:]  # corrupt, no face, tiny face
    assert not any(it.id in GOOD for it in bad)
    with pytest.raises(InputError, match="no descriptors: all 3 image"):
        extract_to_file_on_dask(client, bad, SPEC, tmp_path / "none.npz")
