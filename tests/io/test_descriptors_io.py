"""Descriptor files: round trips and one clear line for each bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from facemetric.errors import InputError
from facemetric.io import load_descriptors, save_descriptors
from facemetric.types import DescriptorSet, PairProtocol, Provenance


def toy(n=6, d=4, flip=True):
    rng = np.random.default_rng(0)
    return DescriptorSet(
        X=rng.normal(size=(n, d)).astype(np.float32),
        labels=np.array([f"P{i // 2}" for i in range(n)]),
        ids=np.array([f"P{i // 2}/P{i // 2}_{i % 2 + 1:04d}.jpg" for i in range(n)]),
        provenance=Provenance(backbone="toy", alignment="arcface112"),
        X_flip=rng.normal(size=(n, d)).astype(np.float32) if flip else None,
    )


@pytest.mark.parametrize("suffix", [".npz", ".parquet"])
def test_roundtrip(tmp_path, suffix):
    ds = toy()
    back = load_descriptors(save_descriptors(ds, tmp_path / f"d{suffix}"))
    np.testing.assert_array_equal(back.X, ds.X)
    np.testing.assert_array_equal(back.X_flip, ds.X_flip)
    assert back.ids.tolist() == ds.ids.tolist() and back.labels.tolist() == ds.labels.tolist()
    assert back.provenance.backbone == "toy" and back.provenance.alignment == "arcface112"


def test_reference_layout(tmp_path):
    ds = toy()
    np.savez(
        tmp_path / "ref.npz",
        paths=ds.ids,
        emb=ds.X,
        emb_flip=ds.X_flip,
        names=np.array(["P0", "P1", "P2"]),
        labels=np.array([0, 0, 1, 1, 2, 2]),
    )
    back = load_descriptors(tmp_path / "ref.npz")
    assert back.labels.tolist() == ds.labels.tolist()
    np.testing.assert_allclose(back.fused("sum").X, ds.X + ds.X_flip)
    assert back.fused("concat").dim == 8 and back.fused("concat").provenance.flip_fusion == "concat"


def one_line(exc_info) -> str:
    msg = str(exc_info.value)
    assert "\n" not in msg
    return msg


def test_truncated_npz(tmp_path):
    path = save_descriptors(toy(), tmp_path / "d.npz")
    data = path.read_bytes()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"cut.npz: is not a readable .npz file.*truncated") as info:
        load_descriptors(cut)
    one_line(info)


def test_nan_rows(tmp_path):
    ds = toy()
    X = ds.X.copy()
    X[3, 1] = np.nan
    np.savez(tmp_path / "nan.npz", X=X, labels=ds.labels, ids=ds.ids)
    with pytest.raises(
        InputError, match=r"nan.npz: descriptors has 1 row\(s\) with NaN or inf values \(first at row 3\)"
    ):
        load_descriptors(tmp_path / "nan.npz")


def test_mismatched_dimensions(tmp_path):
    ds = toy()
    np.savez(tmp_path / "flip.npz", X=ds.X, X_flip=ds.X_flip[:, :3], labels=ds.labels, ids=ds.ids)
    with pytest.raises(
        InputError, match=r"flip.npz: flipped descriptors have shape \(6, 3\) but descriptors have \(6, 4\)"
    ):
        load_descriptors(tmp_path / "flip.npz")
    np.savez(tmp_path / "rows.npz", X=ds.X, labels=ds.labels[:5], ids=ds.ids)
    with pytest.raises(InputError, match=r"rows.npz: descriptor set has 6 rows but 5 labels and 6 ids"):
        load_descriptors(tmp_path / "rows.npz")
    np.savez(tmp_path / "flat.npz", X=ds.X[0], labels=ds.labels, ids=ds.ids)
    with pytest.raises(InputError, match="must be a 2-D"):
        load_descriptors(tmp_path / "flat.npz")


def test_duplicate_ids_unknown_keys_and_pickles(tmp_path):
    ds = toy()
    ids = ds.ids.copy()
    ids[1] = ids[0]
    np.savez(tmp_path / "dup.npz", X=ds.X, labels=ds.labels, ids=ids)
    with pytest.raises(InputError, match="1 duplicate image id"):
        load_descriptors(tmp_path / "dup.npz")
    np.savez(tmp_path / "keys.npz", foo=ds.X)
    with pytest.raises(InputError, match=r"has keys \['foo'\] but neither"):
        load_descriptors(tmp_path / "keys.npz")
    np.savez(tmp_path / "obj.npz", X=np.array([object()], dtype=object), labels=ds.labels, ids=ds.ids)
    with pytest.raises(InputError, match="pickled objects"):
        load_descriptors(tmp_path / "obj.npz")
    with pytest.raises(InputError, match="does not exist"):
        load_descriptors(tmp_path / "missing.npz")
    (tmp_path / "d.h5").write_text("x")
    with pytest.raises(InputError, match="unknown extension"):
        load_descriptors(tmp_path / "d.h5")


def test_pairs_pointing_past_the_set():
    ds = toy()
    p = PairProtocol.from_id_pairs([ds.ids[0]], ["P9/P9_0001.jpg"], labels=[1], name="pairs.txt")
    with pytest.raises(InputError, match=r"pairs.txt: pair 0: image 'P9/P9_0001.jpg' has no descriptor \(1 of "
                       r"the 2 images"):
        p.resolve(ds)


def test_missing_descriptor_error_names_the_line(tmp_path):
    from facemetric.io import load_protocol

    ds = toy()
    a, b = str(ds.ids[0]), str(ds.ids[1])
    path = tmp_path / "pairs.csv"
    path.write_text(f"a,b,label\n{a},{b},1\n\n{a},Z9/Z9_0001.jpg,0\n")
    with pytest.raises(InputError, match=r"pairs.csv:4: image 'Z9/Z9_0001.jpg' has no descriptor"):
        load_protocol(path).resolve(ds)
    assert load_protocol(path).subset([1]).lines.tolist() == [4]


def test_flip_fusion_errors():
    with pytest.raises(InputError, match="needs flipped descriptors"):
        toy(flip=False).fused("sum")
    with pytest.raises(InputError, match="flip fusion must be one of"):
        toy().fused("max")


def test_parquet_sidecar_provenance(tmp_path):
    path = save_descriptors(toy(), tmp_path / "d.parquet")
    sidecar = json.loads((tmp_path / "d.parquet.json").read_text())
    assert sidecar["backbone"] == "toy"
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match="bad.parquet: is not a readable parquet file"):
        load_descriptors(tmp_path / "bad.parquet")
    assert path.exists()
