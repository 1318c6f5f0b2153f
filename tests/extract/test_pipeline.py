"""The extraction pipeline with fake backends: outputs, failures, cache, resume, workers, bad inputs."""

from __future__ import annotations

import csv
import functools
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fakes import FakeDetector, FakeEmbedder, describe_crops, embedded_count, synthetic_image  # noqa: E402

from facemetric.align import align_face  # noqa: E402
from facemetric.errors import ConfigError, InputError  # noqa: E402
from facemetric.extract import (  # noqa: E402
    PipelineSpec,
    extract_descriptors,
    extract_to_file,
    folder_images,
    list_file_images,
)
from facemetric.extract.cache import CACHE_FILE  # noqa: E402
from facemetric.images import read_image  # noqa: E402
from facemetric.io import load_descriptors  # noqa: E402

SPEC = PipelineSpec(detector=FakeDetector, embedder=FakeEmbedder)
GOOD = [f"{p}/{p}_{i:04d}.png" for p in ("Ann", "Bob", "Cid") for i in (1, 2)]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """6 good images of 3 people, a corrupt file, an image with no face, one with a tiny face, a text file."""
    root = tmp_path / "images"
    for seed, rel in enumerate(GOOD):
        synthetic_image(root / rel, seed)
    (root / "Dan").mkdir()
    (root / "Dan" / "Dan_0001.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    synthetic_image(root / "Eve" / "Eve_0001.png", 10, face=None)
    synthetic_image(root / "Fay" / "Fay_0001.png", 11, face=8)
    (root / "Fay" / "notes.txt").write_text("not an image")
    return root


@pytest.fixture
def embed_log(tmp_path, monkeypatch) -> Path:
    log = tmp_path / "embed.log"
    monkeypatch.setenv("FAKE_EMBED_LOG", str(log))
    return log


def _reference(root: Path, rel: str) -> np.ndarray:
    image = read_image(root / rel)
    face = FakeDetector().detect(image)[0]
    crop = align_face(image, face.landmarks, "arcface112").crop
    return describe_crops(crop[None])[0], describe_crops(crop[None, :, ::-1])[0]


def _report(path: Path) -> dict[str, tuple[str, str]]:
    with open(path, newline="") as fh:
        return {row["image"]: (row["reason"], row["detail"]) for row in csv.DictReader(fh)}


def test_folder_tree_to_descriptors_with_failure_report(tree, tmp_path):
    out = tmp_path / "out" / "faces.npz"
    spec = PipelineSpec(detector=FakeDetector, embedder=FakeEmbedder, flip=True)
    result, report = extract_to_file(folder_images(tree), spec, out, cache_dir=tmp_path / "cache")
    ds = load_descriptors(out)
    assert ds.ids.tolist() == GOOD
    assert ds.labels.tolist() == [r.split("/")[0] for r in GOOD]
    for row, rel in enumerate(GOOD):
        x, x_flip = _reference(tree, rel)
        np.testing.assert_allclose(ds.X[row], x, rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(ds.X_flip[row], x_flip, rtol=1e-5, atol=1e-4)
    assert np.all(np.abs(ds.X[:, 3] + ds.X_flip[:, 3]) < 1e-3)  # mirroring flips left-minus-right
    prov = ds.provenance
    assert (prov.backbone, prov.alignment, prov.color_order) == ("fake-mean-colour", "arcface112", "RGB")
    assert prov.extra["model_hash"] == "fake0001" and prov.extra["has_flip"] is True
    assert report == tmp_path / "out" / "faces.failures.csv"
    failures = _report(report)
    assert {k: v[0] for k, v in failures.items()} == {
        "Dan/Dan_0001.jpg": "unreadable", "Eve/Eve_0001.png": "no face", "Fay/Fay_0001.png": "tiny face"}
    assert "Dan_0001.jpg" in failures["Dan/Dan_0001.jpg"][1] and "8 px" in failures["Fay/Fay_0001.png"][1]
    assert (result.n_images, result.n_cached, result.n_processed) == (9, 0, 9)


def test_two_worker_processes_give_the_same_descriptors(tree, tmp_path, embed_log):
    items = folder_images(tree)
    one = extract_descriptors(items, SPEC, workers=1).descriptors
    embedded_in_parent = embedded_count(embed_log)
    two = extract_descriptors(items, SPEC, workers=2, batch_size=2).descriptors
    assert two.ids.tolist() == one.ids.tolist()
    np.testing.assert_array_equal(two.X, one.X)
    pids = set(embed_log.read_text().splitlines()[embedded_in_parent:])
    assert len(pids) >= 1 and str(os.getpid()) not in pids  # the work ran in worker processes


def test_second_run_comes_from_the_cache(tree, tmp_path, embed_log):
    items = folder_images(tree)
    first = extract_descriptors(items, SPEC, cache_dir=tmp_path / "cache")
    assert embedded_count(embed_log) == 6
    second = extract_descriptors(items, SPEC, cache_dir=tmp_path / "cache")
    assert embedded_count(embed_log) == 6  # nothing embedded again
    assert (second.n_cached, second.n_processed) == (9, 0)
    np.testing.assert_array_equal(second.descriptors.X, first.descriptors.X)
    assert [f.reason for f in second.failures] == [f.reason for f in first.failures]
    # another configuration (flip on) does not reuse the entries
    flipped = extract_descriptors(items, PipelineSpec(detector=FakeDetector, embedder=FakeEmbedder, flip=True),
                                  cache_dir=tmp_path / "cache")
    assert flipped.n_cached == 0 and embedded_count(embed_log) == 6 + 12
    # an image whose bytes change is processed again, the others are not
    synthetic_image(tree / GOOD[0], 99)
    third = extract_descriptors(items, SPEC, cache_dir=tmp_path / "cache")
    assert (third.n_cached, third.n_processed) == (8, 1) and embedded_count(embed_log) == 19


def test_interrupted_run_resumes_without_redoing_finished_batches(tree, tmp_path, embed_log):
    items = folder_images(tree)
    # batches of 2 images; the embedder is interrupted on its 3rd call (after 2 batches of 2 faces)
    interrupted = PipelineSpec(detector=FakeDetector, embedder=functools.partial(FakeEmbedder, fail_after=2))
    with pytest.raises(KeyboardInterrupt):
        extract_to_file(items, interrupted, tmp_path / "faces.npz", cache_dir=tmp_path / "cache", batch_size=2)
    assert not (tmp_path / "faces.npz").exists()
    assert embedded_count(embed_log) == 4
    result, _ = extract_to_file(items, SPEC, tmp_path / "faces.npz", cache_dir=tmp_path / "cache", batch_size=2)
    assert result.n_cached == 4 and result.n_processed == 5
    assert embedded_count(embed_log) == 4 + 2  # only the two faces not yet done
    assert len(load_descriptors(tmp_path / "faces.npz")) == 6


def test_killed_process_resumes_without_redoing_finished_images(tree, tmp_path, embed_log):
    """SIGKILL a real extraction mid-way, then finish it: every committed image is reused."""
    cache = tmp_path / "cache"
    script = textwrap.dedent(f"""
        import functools, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from fakes import FakeDetector, FakeEmbedder
        from facemetric.extract import PipelineSpec, extract_to_file, folder_images
        spec = PipelineSpec(detector=FakeDetector, embedder=functools.partial(FakeEmbedder, delay=0.3))
        extract_to_file(folder_images({str(tree)!r}), spec, {str(tmp_path / "faces.npz")!r},
                        cache_dir={str(cache)!r}, batch_size=1)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], env=dict(os.environ))
    deadline = time.time() + 60
    committed = 0
    while time.time() < deadline and proc.poll() is None:
        if (cache / CACHE_FILE).exists():
            with sqlite3.connect(cache / CACHE_FILE) as db:
                try:
                    committed = db.execute("SELECT COUNT(*) FROM results WHERE status = 'ok'").fetchone()[0]
                except sqlite3.OperationalError:
                    committed = 0
            if committed >= 3:
                break
        time.sleep(0.05)
    assert proc.poll() is None, "the extraction finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(cache / CACHE_FILE) as db:
        committed = db.execute("SELECT COUNT(*) FROM results WHERE status = 'ok'").fetchone()[0]
    assert 3 <= committed < 6
    assert not (tmp_path / "faces.npz").exists()
    before = embedded_count(embed_log)
    result, _ = extract_to_file(folder_images(tree), SPEC, tmp_path / "faces.npz", cache_dir=cache)
    assert embedded_count(embed_log) - before == 6 - committed
    assert len(result.descriptors) == 6


def test_list_file_selects_images_and_reports_missing_ones(tree, tmp_path):
    lst = tmp_path / "list.txt"
    lst.write_text("# a comment\n\nBob/Bob_0002.png\n./Ann/Ann_0001.png\tignored column\nAnn/Nope_0009.png\n")
    result, report = extract_to_file(list_file_images(tree, lst), SPEC, tmp_path / "o.npz")
    assert result.descriptors.ids.tolist() == ["Bob/Bob_0002.png", "Ann/Ann_0001.png"]
    reason, detail = _report(report)["Ann/Nope_0009.png"]
    assert reason == "unreadable" and "Nope_0009.png" in detail


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("/etc/passwd\n", "line 1: '/etc/passwd' is an absolute path"),
        ("Ann/Ann_0001.png\n../outside.jpg\n", "line 2: '../outside.jpg' points outside the images root"),
        ("Ann/Ann_0001.png\nAnn//Ann_0001.png\n", "line 2: 'Ann/Ann_0001.png' is listed again (first at line 1)"),
        ("# only a comment\n\n", "lists no images"),
    ],
)
def test_bad_list_file_entries_are_one_line_errors(tree, tmp_path, content, message):
    lst = tmp_path / "list.txt"
    lst.write_text(content)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        list_file_images(tree, lst)
    assert "\n" not in str(info.value)


def test_bad_roots_and_files(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no image files"):
        folder_images(tmp_path / "empty")
    with pytest.raises(InputError, match="does not exist"):
        folder_images(tmp_path / "missing")
    with pytest.raises(InputError, match="no such list file"):
        list_file_images(tmp_path / "empty", tmp_path / "nope.txt")
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InputError, match="is not UTF-8 text"):
        list_file_images(tmp_path / "empty", tmp_path / "bin.txt")


def test_all_images_failing_is_an_error_naming_the_report(tmp_path):
    root = tmp_path / "images"
    synthetic_image(root / "A" / "a.png", 1, face=None)
    (root / "B").mkdir()
    (root / "B" / "b.jpg").write_bytes(b"")
    with pytest.raises(InputError, match=r"all 2 image\(s\) failed \(no face, unreadable\); see .*o.failures.csv"):
        extract_to_file(folder_images(root), SPEC, tmp_path / "o.npz")
    assert len(_report(tmp_path / "o.failures.csv")) == 2
    assert not (tmp_path / "o.npz").exists()


def test_backend_exception_on_one_image_is_reported_and_not_cached(tree, tmp_path):
    class Flaky(FakeDetector):
        def detect(self, image_rgb, image_id=None):
            if image_id == "Bob/Bob_0001.png":
                raise RuntimeError("backend hiccup")
            return super().detect(image_rgb, image_id)

    spec = PipelineSpec(detector=Flaky, embedder=FakeEmbedder)
    result = extract_descriptors(folder_images(tree), spec, cache_dir=tmp_path / "cache")
    err = [f for f in result.failures if f.reason == "error"]
    assert [(f.id, f.detail) for f in err] == [("Bob/Bob_0001.png", "RuntimeError: backend hiccup")]
    again = extract_descriptors(folder_images(tree), spec, cache_dir=tmp_path / "cache")
    assert again.n_processed == 1  # the errored image is tried again, nothing else


def test_bad_options(tree, tmp_path):
    items = folder_images(tree)
    with pytest.raises(ConfigError, match="must end in .npz or .parquet"):
        extract_to_file(items, SPEC, tmp_path / "o.txt")
    with pytest.raises(ConfigError, match="face choice policy"):
        extract_descriptors(items, PipelineSpec(detector=FakeDetector, embedder=FakeEmbedder, policy="biggest"))
    with pytest.raises(ConfigError, match="batch_size"):
        extract_descriptors(items, SPEC, batch_size=0)


def test_unknown_detector_spec_in_a_worker_is_a_clean_error(tree):
    spec = PipelineSpec(detector="retina:x.onnx", embedder=FakeEmbedder)
    with pytest.raises(ConfigError, match="unknown detector 'retina'"):
        extract_descriptors(folder_images(tree), spec, workers=2)


def _cfp_tree(root: Path) -> Path:
    """Two CFP people (frontal and profile folders) and CFP's Protocol folder."""
    for person in ("001", "002"):
        for pose in ("frontal", "profile"):
            for k in (1, 2):
                synthetic_image(root / "Data" / "Images" / person / pose / f"{k:02d}.png", k)
    proto = root / "Protocol"
    (proto / "Split" / "FP" / "01").mkdir(parents=True)
    (proto / "Pair_list_F.txt").write_text("1 ../Data/Images/001/frontal/01.png\n2 ../Data/Images/002/frontal/01.png\n")
    (proto / "Pair_list_P.txt").write_text("1 ../Data/Images/001/profile/01.png\n2 ../Data/Images/002/profile/02.png\n")
    (proto / "Split" / "FP" / "01" / "same.txt").write_text("1,1\n2,2\n")
    (proto / "Split" / "FP" / "01" / "diff.txt").write_text("1,2\n")
    return root


def test_labels_come_from_the_layout_and_wrong_ones_are_flagged(tmp_path):
    from facemetric.extract.inputs import select_images

    root = _cfp_tree(tmp_path / "cfp")
    items, warnings = select_images(root)  # no option: CFP's Data/Images/<id>/{frontal,profile}/NN
    assert {it.id: it.label for it in items}["Data/Images/002/profile/01.png"] == "002"
    assert sorted({it.label for it in items}) == ["001", "002"] and warnings == []
    # the old default, the first folder, collapses everyone to 'Data': warned, and checked against the protocol
    items, warnings = select_images(root, protocol=root, protocol_format="cfp-fp", label_depth=0)
    assert {it.label for it in items} == {"Data"}
    assert len(warnings) == 2
    assert "all 4 images get the one identity 'Data' (folder depth 0)" in warnings[0]
    assert "the labels of 4 of 4 protocol images disagree with the identities cfp-fp states" in warnings[1]
    assert "--label-depth" in warnings[1]
    items, warnings = select_images(root, protocol=root, protocol_format="cfp-fp")
    assert warnings == [] and len(items) == 4


def test_fallback_describes_face_less_photos_from_a_centred_box_and_records_them(tree, tmp_path):
    from facemetric.extract.processor import centre_face

    spec = PipelineSpec(detector=FakeDetector, embedder=FakeEmbedder, fallback="center", fallback_scale=0.5)
    out = tmp_path / "faces.npz"
    result, report = extract_to_file(folder_images(tree), spec, out)
    ds = load_descriptors(out)
    assert "Eve/Eve_0001.png" in ds.ids.tolist() and result.fallbacks == ["Eve/Eve_0001.png"]
    # the descriptor is the embedder's on the template warp of the centred box
    image = read_image(tree / "Eve" / "Eve_0001.png")
    face = centre_face(image.shape, "arcface112", 0.5)
    assert np.allclose(face.box, [30, 30, 90, 90])  # 120 px photo: a 60 px square in the middle
    crop = align_face(image, face.landmarks, "arcface112").crop
    np.testing.assert_allclose(ds.X[ds.ids.tolist().index("Eve/Eve_0001.png")], describe_crops(crop[None])[0],
                               rtol=1e-5, atol=1e-4)
    # recorded per image: in the failure report (with its fallback) and in the provenance
    with open(report, newline="") as fh:
        rows = {r["image"]: r for r in csv.DictReader(fh)}
    assert rows["Eve/Eve_0001.png"]["reason"] == "no face" and rows["Eve/Eve_0001.png"]["fallback"] == "center"
    assert "centred box" in rows["Eve/Eve_0001.png"]["detail"]
    assert rows["Dan/Dan_0001.jpg"]["fallback"] == "" and rows["Fay/Fay_0001.png"]["fallback"] == ""
    extra = ds.provenance.extra
    assert extra["fallback"] == "center" and extra["fallback_images"] == ["Eve/Eve_0001.png"]
    assert extra["n_failed"] == 2
    # off by default: the same photo is a failure, and a run without the fallback does not reuse its result
    plain, _ = extract_to_file(folder_images(tree), SPEC, tmp_path / "plain.npz")
    assert "Eve/Eve_0001.png" not in plain.descriptors.ids.tolist() and plain.fallbacks == []
    assert "fallback_images" not in plain.descriptors.provenance.extra
    with pytest.raises(ConfigError, match="'fallback' parameter must be none or center"):
        PipelineSpec(detector=FakeDetector, embedder=FakeEmbedder, fallback="random")()


def test_landmarks_and_yaw_travel_with_the_descriptors(tree, tmp_path):
    from facemetric.io.protocols.yaw import estimate_yaw

    out = tmp_path / "faces.npz"
    extract_to_file(folder_images(tree), PipelineSpec(detector=FakeDetector, embedder=FakeEmbedder), out)
    ds = load_descriptors(out)
    for row, rel in enumerate(ds.ids):
        expected = FakeDetector().detect(read_image(tree / rel))[0].landmarks
        np.testing.assert_allclose(ds.landmarks[row], expected, atol=1e-4)  # source-image pixels
    np.testing.assert_allclose(ds.yaw, estimate_yaw(ds.landmarks.astype(np.float64)), atol=1e-3)
    assert np.abs(ds.yaw).max() < 1e-3  # the fake landmarks are symmetric: a frontal face
