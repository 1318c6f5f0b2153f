"""estimate_similarity against scikit-image's Umeyama implementation and closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.transform import SimilarityTransform

from facemetric.align import apply_transform, estimate_similarity, invert_transform
from facemetric.errors import InputError


def _random_similarity(rng):
    angle = rng.uniform(-np.pi, np.pi)
    scale = rng.uniform(0.2, 5.0)
    R = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return np.hstack([scale * R, rng.uniform(-100, 100, size=(2, 1))])


@pytest.mark.parametrize("seed", range(10))
def test_exact_points_recover_the_transform(seed):
    rng = np.random.default_rng(seed)
    src = rng.uniform(0, 250, size=(5, 2))
    M = _random_similarity(rng)
    dst = apply_transform(M, src)
    np.testing.assert_allclose(estimate_similarity(src, dst), M, atol=1e-9)


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("n", [2, 5, 30])
def test_noisy_points_match_skimage(seed, n):
    rng = np.random.default_rng(100 + seed)
    src = rng.uniform(0, 250, size=(n, 2))
    dst = apply_transform(_random_similarity(rng), src) + rng.normal(0, 3.0, size=(n, 2))
    ours = estimate_similarity(src, dst)
    if hasattr(SimilarityTransform, "from_estimate"):  # scikit-image >= 0.26
        ref = SimilarityTransform.from_estimate(src, dst)
    else:
        ref = SimilarityTransform()
        assert ref.estimate(src, dst)
    np.testing.assert_allclose(ours, ref.params[:2], atol=1e-8)


def test_least_squares_optimality_by_perturbation():
    rng = np.random.default_rng(7)
    src = rng.uniform(0, 100, size=(5, 2))
    dst = rng.uniform(0, 100, size=(5, 2))
    M = estimate_similarity(src, dst)
    a, b, tx, ty = M[0, 0], M[1, 0], M[0, 2], M[1, 2]

    def cost(p):
        A = np.array([[p[0], -p[1], p[2]], [p[1], p[0], p[3]]])
        return ((apply_transform(A, src) - dst) ** 2).sum()

    best = cost([a, b, tx, ty])
    for _ in range(200):
        assert cost(np.array([a, b, tx, ty]) + rng.normal(0, 1e-3, 4)) >= best - 1e-9


def test_mirrored_points_give_a_rotation_not_a_reflection():
    rng = np.random.default_rng(3)
    src = rng.uniform(0, 100, size=(5, 2))
    dst = src * np.array([-1.0, 1.0])  # a pure reflection
    M = estimate_similarity(src, dst)
    assert np.linalg.det(M[:, :2]) > 0
    np.testing.assert_allclose(M[0, 0], M[1, 1])
    np.testing.assert_allclose(M[0, 1], -M[1, 0])


def test_invert_transform_roundtrip():
    rng = np.random.default_rng(4)
    M = _random_similarity(rng)
    pts = rng.uniform(0, 50, size=(7, 2))
    np.testing.assert_allclose(apply_transform(invert_transform(M), apply_transform(M, pts)), pts, atol=1e-9)


@pytest.mark.parametrize(
    "src,dst,needle",
    [
        (np.zeros((5, 3)), np.zeros((5, 3)), "(N, 2)"),
        (np.zeros((5, 2)), np.zeros((4, 2)), "same shape"),
        (np.zeros((1, 2)), np.zeros((1, 2)), "at least 2"),
        (np.ones((5, 2)), np.random.default_rng(0).random((5, 2)), "coincide"),
        (np.full((5, 2), np.nan), np.zeros((5, 2)), "NaN"),
    ],
)
def test_bad_points(src, dst, needle):
    with pytest.raises(InputError, match=None) as info:
        estimate_similarity(src, dst)
    assert needle in str(info.value)
