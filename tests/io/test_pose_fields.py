"""Landmarks and yaw travel with the descriptors: construction, subset, fusion, files, landmark lists."""

from __future__ import annotations

import numpy as np
import pytest

from facemetric.detect.attach import with_landmarks
from facemetric.io.protocols.yaw import estimate_yaw, yaw_or_nan
from facemetric.errors import InputError
from facemetric.io import load_descriptors, save_descriptors
from facemetric.types import DescriptorSet, Provenance

FRONTAL = np.array([[38.3, 51.7], [73.5, 51.5], [56.0, 71.7], [41.5, 92.4], [70.7, 92.2]])


def posed(n=6, missing_row=2):
    rng = np.random.default_rng(1)
    lm = FRONTAL[None] + rng.normal(scale=3.0, size=(n, 5, 2))
    lm[missing_row] = np.nan
    return DescriptorSet(
        X=rng.normal(size=(n, 4)), X_flip=rng.normal(size=(n, 4)),
        labels=[f"P{i // 2}" for i in range(n)], ids=[f"P{i // 2}/P{i // 2}_{i % 2 + 1:04d}.jpg" for i in range(n)],
        provenance=Provenance(backbone="toy"), landmarks=lm, yaw=yaw_or_nan(lm),
    )


def test_yaw_or_nan_matches_estimate_and_marks_missing():
    ds = posed()
    ok = np.isfinite(ds.landmarks).all(axis=(1, 2))
    np.testing.assert_allclose(ds.yaw[ok], estimate_yaw(ds.landmarks[ok].astype(np.float64)), atol=1e-3)
    assert np.isnan(ds.yaw[~ok]).all() and (~ok).sum() == 1


def test_pose_kept_by_subset_fusion_labels():
    ds = posed()
    sub = ds.subset([5, 2, 0])
    np.testing.assert_array_equal(sub.yaw, ds.yaw[[5, 2, 0]])
    np.testing.assert_array_equal(sub.landmarks, ds.landmarks[[5, 2, 0]])
    for flip in ("none", "sum", "concat"):
        fused = ds.fused(flip)
        np.testing.assert_array_equal(fused.yaw, ds.yaw)
        np.testing.assert_array_equal(fused.landmarks, ds.landmarks)
    blind = ds.unlabelled()
    assert (blind.labels == "").all()
    np.testing.assert_array_equal(blind.yaw, ds.yaw)


def test_absent_pose_is_none():
    ds = DescriptorSet(X=np.ones((2, 3)), labels=["a", "b"], ids=["a/1", "b/1"])
    assert ds.landmarks is None and ds.yaw is None
    assert ds.subset([1]).yaw is None and ds.fused("none").landmarks is None


@pytest.mark.parametrize("kwargs, words", [
    ({"yaw": np.zeros(3)}, "yaw must be a numeric array of shape (2,)"),
    ({"landmarks": np.zeros((2, 4, 2))}, "landmarks must be a numeric array of shape (2, 5, 2)"),
    ({"yaw": np.array([0.0, np.inf])}, "yaw hold inf values"),
])
def test_bad_pose_arrays(kwargs, words):
    with pytest.raises(InputError, match=words.replace("(", r"\(").replace(")", r"\)")):
        DescriptorSet(X=np.ones((2, 3)), labels=["a", "b"], ids=["a/1", "b/1"], **kwargs)


@pytest.mark.parametrize("suffix", [".npz", ".parquet"])
def test_pose_roundtrip(tmp_path, suffix):
    ds = posed()
    back = load_descriptors(save_descriptors(ds, tmp_path / f"d{suffix}"))
    np.testing.assert_array_equal(back.landmarks, ds.landmarks)  # NaN row included
    np.testing.assert_array_equal(back.yaw, ds.yaw)
    bare = DescriptorSet(X=ds.X, labels=ds.labels, ids=ds.ids)
    again = load_descriptors(save_descriptors(bare, tmp_path / f"bare{suffix}"))
    assert again.landmarks is None and again.yaw is None


def test_with_landmarks_from_a_text_list(tmp_path):
    ds = posed()
    lines = []
    for i, image_id in enumerate(ds.ids[:4]):  # rows 4 and 5 are not listed
        if i == 2:
            continue
        pts = " ".join(f"{v:.3f}" for v in ds.landmarks[i].ravel())
        lines.append(f"{image_id} 0 0 100 100 0.99 {pts}")
    lines.append(f"{ds.ids[0]} 0 0 10 10 0.10 " + " ".join(["1"] * 10))  # a weaker second face: ignored
    path = tmp_path / "points.txt"
    path.write_text("\n".join(lines) + "\n")
    got = with_landmarks(DescriptorSet(X=ds.X, labels=ds.labels, ids=ds.ids), path)
    listed = np.array([0, 1, 3])
    np.testing.assert_allclose(got.landmarks[listed], ds.landmarks[listed], atol=1e-3)
    np.testing.assert_allclose(got.yaw[listed], ds.yaw[listed], atol=1e-2)
    assert np.isnan(got.yaw[[2, 4, 5]]).all()
    assert got.provenance.extra["landmarks_source"] == "points.txt"


def test_with_landmarks_refuses_a_foreign_list(tmp_path):
    path = tmp_path / "other.txt"
    path.write_text("Someone/Someone_0001.jpg 0 0 1 1 1 " + " ".join(["1"] * 10) + "\n")
    with pytest.raises(InputError, match="lists none of the 6 images"):
        with_landmarks(posed(), path)


def test_reference_lfw_has_no_pose_and_gets_it_from_mtcnn_points(lfw_descriptors, lfw_dir):
    assert lfw_descriptors.yaw is None and lfw_descriptors.landmarks is None
    got = with_landmarks(lfw_descriptors, lfw_dir / "landmarks_mtcnn_5pt.txt")
    assert np.isfinite(got.yaw).all()
    assert 10 < float(np.median(np.abs(got.yaw))) < 14  # docs/protocols.md: median |yaw| 12 degrees
