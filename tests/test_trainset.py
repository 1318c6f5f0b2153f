"""Combining descriptor sets into one training set: identities kept apart by source, merged by a map."""

from __future__ import annotations

import numpy as np
import pytest

from facemetric.cli.main import main
from facemetric.errors import InputError
from facemetric.io import load_descriptors, save_descriptors
from facemetric.trainset import DroppedFlipWarning, Source, combine_sources, read_identity_map
from facemetric.types import DescriptorSet, Provenance


def people(names, per=2, dim=4, seed=0, flip=True, yaw=False, backbone="m"):
    rng = np.random.default_rng(seed)
    labels = np.repeat(names, per)
    ids = [f"{lab}/{lab}_{k % per + 1:04d}.jpg" for k, lab in enumerate(labels)]
    n = len(labels)
    return DescriptorSet(X=rng.normal(size=(n, dim)), labels=labels, ids=ids, provenance=Provenance(backbone=backbone),
                         X_flip=rng.normal(size=(n, dim)) if flip else None,
                         yaw=rng.uniform(-40, 40, n) if yaw else None)


def test_sources_stay_apart_unless_mapped():
    a = people(["John_Smith", "Ann"], seed=1, yaw=True)
    b = people(["John_Smith", "Bo"], seed=2)
    out = combine_sources([Source("lfw", a), Source("mine", b)])
    assert len(out) == 8 and sorted(set(out.labels)) == ["lfw:Ann", "lfw:John_Smith", "mine:Bo", "mine:John_Smith"]
    assert out.ids[0] == "lfw/John_Smith/John_Smith_0001.jpg"
    np.testing.assert_array_equal(out.X, np.vstack([a.X, b.X]))
    np.testing.assert_array_equal(out.X_flip, np.vstack([a.X_flip, b.X_flip]))
    np.testing.assert_array_equal(out.yaw[:4], a.yaw.astype(np.float32))
    assert np.isnan(out.yaw[4:]).all() and out.landmarks is None
    merged = combine_sources([Source("lfw", a), Source("mine", b)],
                             {("lfw", "John_Smith"): "john", ("mine", "John_Smith"): "john"})
    assert sorted(set(merged.labels)) == ["john", "lfw:Ann", "mine:Bo"]
    assert (merged.labels == "john").sum() == 4
    assert [s["name"] for s in merged.provenance.extra["sources"]] == ["lfw", "mine"]


def test_a_single_source_keeps_its_ids_and_identities():
    a = people(["Ann", "Bo"], seed=3)
    out = combine_sources([Source("lfw", a)])
    np.testing.assert_array_equal(out.ids, a.ids)
    np.testing.assert_array_equal(out.labels, a.labels)
    assert sorted(set(combine_sources([Source("lfw", a)], {("lfw", "Ann"): "anne"}).labels)) == ["Bo", "anne"]


def test_flip_dropped_with_a_warning_when_a_source_lacks_it():
    with pytest.warns(DroppedFlipWarning, match=r"sources \['b'\] have no flipped descriptors"):
        out = combine_sources([Source("a", people(["x"])), Source("b", people(["y"], flip=False))])
    assert out.X_flip is None


@pytest.mark.parametrize("sources, words", [
    ([Source("a", people(["x"])), Source("a", people(["y"]))], "two sources are named 'a'"),
    ([Source("a", people(["x"])), Source("b", people(["y"], dim=3))], "3-d descriptors"),
    ([Source("a", people(["x"])), Source("b", people(["y"], backbone="other"))], "backbone 'other'"),
    ([Source("a/b", people(["x"]))], "holds '/' or ':'"),
    ([], "no descriptor sets"),
])
def test_refusals(sources, words):
    with pytest.raises(InputError, match=words):
        combine_sources(sources)


def test_identity_map_file(tmp_path):
    path = tmp_path / "map.csv"
    path.write_text("source,label,identity\nlfw,John_Smith,john\nmine,John_Smith,john\n\n")
    assert read_identity_map(path) == {("lfw", "John_Smith"): "john", ("mine", "John_Smith"): "john"}
    path.write_text("src,label,identity\n")
    with pytest.raises(InputError, match="the header must read source,label,identity"):
        read_identity_map(path)
    path.write_text("source,label,identity\nlfw,John_Smith,john\nlfw,John_Smith,other\n")
    with pytest.raises(InputError, match="maps lfw:John_Smith a second time"):
        read_identity_map(path)
    path.write_text("source,label,identity\nnope,x,y\n")
    with pytest.raises(InputError, match="names source 'nope'"):
        combine_sources([Source("lfw", people(["x"]))], read_identity_map(path))


def test_cli_combines_maps_and_attaches_landmarks(tmp_path, capsys):
    a, b = people(["John_Smith", "Ann"], seed=1), people(["John_Smith", "Bo"], seed=2)
    save_descriptors(a, tmp_path / "lfw.npz")
    save_descriptors(b, tmp_path / "mine.npz")
    (tmp_path / "map.csv").write_text("source,label,identity\nlfw,John_Smith,john\nmine,John_Smith,john\n")
    pts = " ".join(["40 50 70 50 55 65 45 80 65 80"])
    (tmp_path / "lm.txt").write_text("".join(f"{i} 0 0 100 100 1 {pts}\n" for i in a.ids))
    code = main(["combine", str(tmp_path / "lfw.npz"), str(tmp_path / "mine.npz"), "--identity-map",
                 str(tmp_path / "map.csv"), "--landmarks", f"lfw={tmp_path / 'lm.txt'}", "--out", str(tmp_path / "t.npz")])
    assert code == 0
    out = load_descriptors(tmp_path / "t.npz")
    assert sorted(set(out.labels)) == ["john", "lfw:Ann", "mine:Bo"]
    assert np.isfinite(out.yaw[:4]).all() and np.isnan(out.yaw[4:]).all()
    assert "8 descriptors of 3 identities" in capsys.readouterr().err.replace("\n", " ")
    assert main(["combine", str(tmp_path / "lfw.npz"), "--names", "a,b", "--out", str(tmp_path / "u.npz")]) == 1
    assert "give one per set" in capsys.readouterr().err
