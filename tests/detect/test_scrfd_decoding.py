"""SCRFD output decoding on synthetic tensors: no model file needed.

A fake session returns the nine SCRFD outputs (scores, boxes and keypoints at strides 8, 16
and 32, two anchors per cell) with a few chosen anchors switched on. The expected faces are
computed by hand from the anchor's cell: centre = (column, row) * stride, box = centre -/+
distances * stride, keypoints = centre + offsets * stride, all mapped back through the letterbox scale s as
(p + 0.5) / s - 0.5 (pixel-index coordinates, OpenCV's resize convention).
"""

from __future__ import annotations

import numpy as np
import pytest

from facemetric.detect.canvas import CanvasRule
from facemetric.detect.scrfd import ScrfdDetector
from facemetric.errors import InputError

W = H = 64  # network input; strides 8, 16, 32 give 8x8, 4x4 and 2x2 cells
ANCHORS = 2


class FakeSession:
    def __init__(self, outputs: list[np.ndarray]) -> None:
        self.outputs = outputs
        self.seen: list[np.ndarray] = []

    def run(self, names, feeds):
        self.seen.append(next(iter(feeds.values())))
        return self.outputs


def detector(outputs: list[np.ndarray], score_threshold: float = 0.5) -> ScrfdDetector:
    det = object.__new__(ScrfdDetector)  # no ONNX file: set what detect() reads
    det.model_path, det.model_size_, det.input_name_ = "fake.onnx", (W, H), "input.1"
    det.canvas_ = CanvasRule(size=(W, H), upscale=True)
    det.output_names_ = [f"out{i}" for i in range(len(outputs))]
    det.score_threshold, det.nms_threshold = score_threshold, 0.4
    det.session_ = FakeSession(outputs)
    return det


def empty_outputs() -> dict[int, dict[str, np.ndarray]]:
    out = {}
    for stride in (8, 16, 32):
        rows = (H // stride) * (W // stride) * ANCHORS
        out[stride] = {"score": np.zeros((rows, 1), np.float32), "box": np.zeros((rows, 4), np.float32),
                       "kps": np.zeros((rows, 10), np.float32)}
    return out


def switch_on(out, stride, row, score, dist, kps):
    out[stride]["score"][row] = score
    out[stride]["box"][row] = dist
    out[stride]["kps"][row] = kps


def by_hand(stride, row, dist, kps, scale):
    cell = row // ANCHORS
    cx, cy = (cell % (W // stride)) * stride, (cell // (W // stride)) * stride
    box = np.array([cx - dist[0] * stride, cy - dist[1] * stride, cx + dist[2] * stride, cy + dist[3] * stride])
    points = np.array([[cx + kps[2 * k] * stride, cy + kps[2 * k + 1] * stride] for k in range(5)])
    return (box + 0.5) / scale - 0.5, (points + 0.5) / scale - 0.5


KPS = np.array([-0.5, -0.4, 0.5, -0.4, 0.0, 0.1, -0.4, 0.5, 0.4, 0.5], np.float32)


@pytest.mark.parametrize("order", ["insightface", "shuffled"])
def test_decoded_faces_match_a_hand_computation(order):
    out = empty_outputs()
    # one face at stride 16 (cell row 2, column 1, second anchor), one at stride 8, far apart
    switch_on(out, 16, (2 * 4 + 1) * ANCHORS + 1, 0.9, [1.0, 1.5, 1.25, 1.0], KPS)
    switch_on(out, 8, (6 * 8 + 6) * ANCHORS, 0.7, [0.5, 0.5, 0.75, 1.0], KPS * 0.5)
    switch_on(out, 32, 3, 0.2, [1, 1, 1, 1], KPS)  # below the score threshold
    layers = [out[s][r] for r in ("score", "box", "kps") for s in (8, 16, 32)]  # the export's order
    if order == "shuffled":  # roles and strides are matched by shape, never by position
        layers = [layers[i] for i in (7, 2, 4, 0, 8, 3, 1, 6, 5)]
    image = np.zeros((128, 96, 3), np.uint8)  # letterboxed to 64x64 at scale 0.5
    faces = detector(layers).detect(image)
    assert [round(f.score, 6) for f in faces] == [0.9, 0.7]
    for face, (stride, row, dist, kps) in zip(faces, [(16, 19, [1.0, 1.5, 1.25, 1.0], KPS),
                                                       (8, 108, [0.5, 0.5, 0.75, 1.0], KPS * 0.5)]):
        box, points = by_hand(stride, row, dist, kps, scale=0.5)
        np.testing.assert_allclose(face.box, box, atol=1e-4)
        np.testing.assert_allclose(face.landmarks, points, atol=1e-4)


def test_the_network_sees_the_letterboxed_canvas_scaled():
    image = np.full((32, 64, 3), 255, np.uint8)  # fits 64x64 at scale 1, top rows only
    det = detector([a for s in (8, 16, 32) for a in empty_outputs()[s].values()])
    assert det.detect(image) == []
    blob = det.session_.seen[0]
    assert blob.shape == (1, 3, H, W) and blob.dtype == np.float32
    assert blob[0, :, :32].max() == pytest.approx((255 - 127.5) / 128)
    assert blob[0, :, 32:].max() == pytest.approx(-127.5 / 128)


def test_overlapping_detections_are_suppressed():
    out = empty_outputs()
    switch_on(out, 16, 10, 0.95, [1.0, 1.0, 1.0, 1.0], KPS)
    switch_on(out, 16, 11, 0.80, [1.0, 1.0, 1.1, 1.0], KPS)  # same cell, other anchor, IoU > 0.4
    faces = detector([a for s in (8, 16, 32) for a in out[s].values()]).detect(np.zeros((64, 64, 3), np.uint8))
    assert [round(f.score, 6) for f in faces] == [0.95]


def test_outputs_of_another_layout_are_refused():
    out = empty_outputs()
    layers = [out[s]["score"] for s in (8, 16, 32)] + [out[s]["box"] for s in (8, 16, 32)]
    with pytest.raises(InputError, match="no keypoint outputs"):
        detector(layers).detect(np.zeros((64, 64, 3), np.uint8))
    with pytest.raises(InputError, match="unexpected output shape"):
        detector(layers + [np.zeros((8, 7), np.float32)]).detect(np.zeros((64, 64, 3), np.uint8))
