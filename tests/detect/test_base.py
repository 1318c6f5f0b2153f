"""Face, choose_face and the geometry helpers, checked against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from facemetric.detect import Face, choose_face
from facemetric.detect.canvas import CanvasRule
from facemetric.detect.geometry import anchor_centers, distance2bbox, distance2kps, letterbox, nms, pad_image
from facemetric.errors import ConfigError, InputError


def _face(x1, y1, x2, y2, score=0.9):
    lm = np.array([[x1, y1]] * 5, np.float32) + np.arange(10, dtype=np.float32).reshape(5, 2)
    return Face(box=[x1, y1, x2, y2], score=score, landmarks=lm)


def test_face_validates_and_converts():
    f = _face(1, 2, 11, 22)
    assert f.box.dtype == np.float32 and f.landmarks.dtype == np.float32 and isinstance(f.score, float)
    assert f.area == 200 and f.center.tolist() == [6, 12]
    with pytest.raises(InputError, match="4 numbers"):
        Face(box=[0, 0, 1], score=1, landmarks=np.zeros((5, 2)))
    with pytest.raises(InputError, match=r"\(5, 2\)"):
        Face(box=[0, 0, 1, 1], score=1, landmarks=np.zeros((68, 2)))
    g = f.shifted(1, 2, scale=2.0)
    np.testing.assert_allclose(g.box, [0, 0, 20, 40])
    np.testing.assert_allclose(g.landmarks, (f.landmarks - [1, 2]) * 2)


def test_choose_face_policies_match_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(50):
        faces = []
        for _ in range(rng.integers(1, 6)):
            x, y = rng.uniform(0, 200, 2)
            w, h = rng.uniform(5, 80, 2)
            faces.append(_face(x, y, x + w, y + h, rng.uniform()))
        areas = [f.area for f in faces]
        assert choose_face(faces, (250, 300, 3), "largest") is faces[int(np.argmax(areas))]
        dists = [np.hypot(*(f.center - [150, 125])) for f in faces]
        assert choose_face(faces, (250, 300, 3), "central") is faces[int(np.argmin(dists))]
    assert choose_face([], (10, 10, 3)) is None
    with pytest.raises(ConfigError, match="'policy'"):
        choose_face([_face(0, 0, 1, 1)], (10, 10, 3), "biggest")


def test_nms_matches_brute_force():
    rng = np.random.default_rng(1)
    boxes = rng.uniform(0, 100, (40, 2))
    boxes = np.hstack([boxes, boxes + rng.uniform(5, 40, (40, 2))])
    scores = rng.uniform(size=40)

    def iou(a, b):
        w = max(0, min(a[2], b[2]) - max(a[0], b[0]))
        h = max(0, min(a[3], b[3]) - max(a[1], b[1]))
        inter = w * h
        return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)

    keep = []
    for i in np.argsort(-scores):
        if all(iou(boxes[i], boxes[k]) <= 0.4 for k in keep):
            keep.append(i)
    assert nms(boxes, scores, 0.4).tolist() == keep


def test_anchor_centers_and_distance_decoding():
    c = anchor_centers(64, 96, 32, 2)
    expect = [[x * 32, y * 32] for y, x in itertools.product(range(2), range(3)) for _ in range(2)]
    assert c.tolist() == expect
    pts = np.array([[10.0, 20.0]])
    np.testing.assert_allclose(distance2bbox(pts, np.array([[1.0, 2, 3, 4]])), [[9, 18, 13, 24]])
    np.testing.assert_allclose(distance2kps(pts, np.arange(10.0)[None]),
                               [[[10, 21], [12, 23], [14, 25], [16, 27], [18, 29]]])


def test_letterbox_and_pad():
    img = np.full((50, 100, 3), 7, np.uint8)
    lb = CanvasRule(size=(64, 64), upscale=True).place(100, 50)
    canvas = letterbox(img, lb)
    assert canvas.shape == (64, 64, 3) and lb.sx == pytest.approx(0.64) and lb.sy == pytest.approx(0.64)
    assert (canvas[:32] == 7).all() and (canvas[32:] == 0).all()
    padded, dx, dy = pad_image(img, 0.5)
    assert padded.shape == (150, 200, 3) and (dx, dy) == (50, 50)
    np.testing.assert_array_equal(padded[50:100, 50:150], img)
    assert padded[:50].max() == 0


class _OnlyBareImages:
    """A fake detector that finds one face, but only in images of exactly ``shape``."""

    name = "fake"

    def __init__(self, shape):
        self.shape, self.calls = shape, []

    def detect(self, image, image_id=None):
        self.calls.append(image.shape)
        return [_face(10, 10, 20, 20)] if image.shape == self.shape else []


def test_padded_detector_maps_back_and_falls_back_to_the_bare_image():
    from facemetric.detect.padded import PaddedDetector

    image = np.zeros((40, 60, 3), np.uint8)
    padded_shape = (40 + 60, 60 + 60, 3)  # 0.5 x 60 = 30 px on every side
    hit = PaddedDetector(_OnlyBareImages(padded_shape), 0.5)
    (face,) = hit.detect(image)
    np.testing.assert_allclose(face.box, [-20, -20, -10, -10])
    assert hit.name == "fake+pad0.5"
    bare_only = _OnlyBareImages(image.shape)
    (face,) = PaddedDetector(bare_only, 0.5).detect(image)
    np.testing.assert_allclose(face.box, [10, 10, 20, 20])
    assert bare_only.calls == [padded_shape, image.shape]
    with pytest.raises(ConfigError, match="'pad'"):
        PaddedDetector(bare_only, -0.1)
