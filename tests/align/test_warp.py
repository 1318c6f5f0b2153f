"""align_face: the warp puts landmarks where the template says, on synthetic and real images."""

from __future__ import annotations

import numpy as np
import pytest

from facemetric.align import TEMPLATES, align_face, apply_transform, estimate_similarity, invert_transform
from facemetric.errors import ConfigError, InputError


def _blob_centroids(crop: np.ndarray, points: np.ndarray, radius: float = 6.0) -> np.ndarray:
    """Intensity-weighted centroid of the red channel near each expected point."""
    red = crop[..., 0].astype(np.float64)
    ys, xs = np.mgrid[: red.shape[0], : red.shape[1]]
    out = []
    for x, y in points:
        w = red * (((xs - x) ** 2 + (ys - y) ** 2) < radius**2)
        out.append([(w * xs).sum() / w.sum(), (w * ys).sum() / w.sum()])
    return np.array(out)


@pytest.mark.parametrize("name", list(TEMPLATES))
@pytest.mark.parametrize("seed", range(3))
def test_markers_land_on_the_template(name, seed):
    tpl = TEMPLATES[name]
    rng = np.random.default_rng(seed)
    # Place the template in a 400x400 image with a random similarity; draw Gaussian blobs there.
    angle, scale = rng.uniform(-0.6, 0.6), rng.uniform(1.2, 2.5)
    R = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    t = np.array([200.0, 200.0]) - R @ tpl.points.mean(axis=0)
    lm = tpl.points @ R.T + t
    ys, xs = np.mgrid[:400, :400]
    image = np.zeros((400, 400, 3), np.uint8)
    blobs = sum(np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * (1.5 * scale) ** 2)) for x, y in lm)
    image[..., 0] = np.clip(blobs * 255, 0, 255).astype(np.uint8)
    aligned = align_face(image, lm, name)
    assert aligned.crop.shape == (tpl.size[1], tpl.size[0], 3) and aligned.crop.dtype == np.uint8
    assert aligned.template == name
    np.testing.assert_allclose(apply_transform(aligned.matrix, lm), tpl.points, atol=1e-6)
    np.testing.assert_allclose(_blob_centroids(aligned.crop, tpl.points), tpl.points, atol=0.35)


def test_matrix_maps_image_to_crop_pixels():
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, size=(120, 160, 3), dtype=np.uint8)
    tpl = TEMPLATES["arcface112"]
    lm = tpl.points * 0.8 + np.array([30.0, 10.0])  # a scaled copy: every crop pixel maps inside the image
    aligned = align_face(image, lm)
    inv = invert_transform(aligned.matrix)
    for cx, cy in [(10, 10), (56, 60), (100, 90)]:
        x, y = apply_transform(inv, [[cx, cy]])[0]
        x0, y0 = int(np.floor(x)), int(np.floor(y))
        fx, fy = x - x0, y - y0
        patch = image[y0:y0 + 2, x0:x0 + 2].astype(float)
        expect = (patch[0, 0] * (1 - fx) * (1 - fy) + patch[0, 1] * fx * (1 - fy)
                  + patch[1, 0] * (1 - fx) * fy + patch[1, 1] * fx * fy)
        np.testing.assert_allclose(aligned.crop[cy, cx], expect, atol=1.0)


@pytest.mark.shared
def test_real_lfw_alignment_puts_detected_landmarks_on_the_template(lfw_dir, models_dir):
    from facemetric.detect import choose_face, make_detector
    from facemetric.images import read_image

    detector = make_detector(f"scrfd:{models_dir / 'scrfd_2.5g_bnkps.onnx'}", threads=1)
    tpl = TEMPLATES["arcface112"]
    eye_dist = np.linalg.norm(tpl.points[1] - tpl.points[0])
    for rel in ["Aaron_Eckhart/Aaron_Eckhart_0001.jpg", "Serena_Williams/Serena_Williams_0003.jpg",
                "Tony_Blair/Tony_Blair_0010.jpg"]:
        image = read_image(lfw_dir / "images" / rel)
        face = choose_face(detector.detect(image), image.shape, "central")
        aligned = align_face(image, face.landmarks)
        # Residual of the 5-point fit is small for a frontal face...
        residual = np.linalg.norm(apply_transform(aligned.matrix, face.landmarks) - tpl.points, axis=1)
        assert residual.max() < 0.2 * eye_dist, rel
        # ...and detecting again on the aligned crop finds the landmarks where the matrix sends them.
        again = choose_face(detector.detect(aligned.crop), aligned.crop.shape, "central")
        err = np.linalg.norm(again.landmarks - apply_transform(aligned.matrix, face.landmarks), axis=1)
        assert err.max() < 0.1 * eye_dist, (rel, err)
        # A wrong (e.g. inverted) matrix would be far off.
        wrong = apply_transform(invert_transform(aligned.matrix), face.landmarks)
        assert np.linalg.norm(again.landmarks - wrong, axis=1).min() > 0.5 * eye_dist


def test_bad_inputs():
    image = np.zeros((50, 50, 3), np.uint8)
    lm = TEMPLATES["arcface112"].points
    with pytest.raises(ConfigError, match="unknown alignment template"):
        align_face(image, lm, "nope")
    with pytest.raises(InputError, match=r"\(5, 2\) landmarks"):
        align_face(image, lm[:4])
    with pytest.raises(InputError, match="uint8"):
        align_face(image.astype(np.float32), lm)
    with pytest.raises(InputError, match="NaN"):
        align_face(image, np.full((5, 2), np.nan))
    assert estimate_similarity(lm, lm).shape == (2, 3)
