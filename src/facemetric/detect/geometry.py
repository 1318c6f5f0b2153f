"""Image geometry shared by the ONNX detectors: padding, letterboxing, box decoding and NMS."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facemetric.errors import require


@dataclass(frozen=True)
class Letterbox:
    """How an image is placed on the network canvas: resized by (``sx``, ``sy``) to
    ``resized_width`` x ``resized_height`` at the top left of a ``width`` x ``height`` canvas,
    the rest black. Built by :meth:`facemetric.detect.canvas.CanvasRule.place`.

    Points use pixel-index coordinates (the centre of pixel (i, j) is (i, j)), the convention of
    OpenCV's resize: a source point ``u`` lands at ``(u + 0.5) * s - 0.5`` on the canvas.
    ``to_image`` inverts that exactly, per axis.
    """

    sx: float
    sy: float
    width: int
    height: int
    resized_width: int
    resized_height: int

    def to_canvas(self, points: np.ndarray) -> np.ndarray:
        """(..., 2) image points -> canvas points."""
        s = np.array([self.sx, self.sy])
        return (np.asarray(points, np.float64) + 0.5) * s - 0.5

    def to_image(self, points: np.ndarray) -> np.ndarray:
        """(..., 2) canvas points -> image points (the exact inverse of :meth:`to_canvas`)."""
        s = np.array([self.sx, self.sy])
        return (np.asarray(points, np.float64) + 0.5) / s - 0.5

    def boxes_to_image(self, boxes: np.ndarray) -> np.ndarray:
        """(N, 4) canvas boxes x1, y1, x2, y2 -> image boxes (both corners mapped as points)."""
        return self.to_image(np.asarray(boxes).reshape(-1, 2, 2)).reshape(-1, 4)


def letterbox(image: np.ndarray, placement: Letterbox) -> np.ndarray:
    """The network canvas: ``image`` resized as ``placement`` says, top-left aligned, zero fill."""
    cv2 = require("cv2", "images")
    h, w = image.shape[:2]
    new_w, new_h = placement.resized_width, placement.resized_height
    if (new_w, new_h) == (w, h):
        resized = image
    else:
        interp = cv2.INTER_AREA if new_w < w else cv2.INTER_LINEAR
        resized = cv2.resize(image, (new_w, new_h), interpolation=interp)
    canvas = np.zeros((placement.height, placement.width, 3), np.uint8)
    canvas[:new_h, :new_w] = resized
    return canvas


def pad_image(image: np.ndarray, fraction: float) -> tuple[np.ndarray, int, int]:
    """Add a constant (black) border of ``fraction`` x the longer side on every side.

    Returns the padded image and the (dx, dy) offset of the original's top-left corner.
    Tight face crops need this: a face that fills the frame is larger than any anchor
    the detectors were trained with, and its landmarks touch the border.
    """
    if fraction <= 0:
        return image, 0, 0
    cv2 = require("cv2", "images")
    p = int(round(fraction * max(image.shape[:2])))
    padded = cv2.copyMakeBorder(image, p, p, p, p, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    return padded, p, p


def anchor_centers(height: int, width: int, stride: int, num_anchors: int) -> np.ndarray:
    """(H/stride * W/stride * num_anchors, 2) x, y anchor centres, row-major, anchors repeated per cell."""
    fh, fw = -(-height // stride), -(-width // stride)
    ys, xs = np.mgrid[:fh, :fw]
    centers = np.stack([xs, ys], axis=-1).reshape(-1, 2).astype(np.float32) * stride
    if num_anchors > 1:
        centers = np.repeat(centers, num_anchors, axis=0)
    return centers


def distance2bbox(points: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """Boxes from centres and (left, top, right, bottom) distances, already multiplied by the stride."""
    return np.concatenate([points - distance[:, :2], points + distance[:, 2:4]], axis=1)


def distance2kps(points: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """(N, K, 2) keypoints from centres and (N, 2K) offsets, already multiplied by the stride."""
    return points[:, None, :] + distance.reshape(len(points), -1, 2)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, highest score first."""
    x1, y1, x2, y2 = boxes.T
    areas = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]))
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]))
        inter = w * h
        iou = inter / np.maximum(areas[i] + areas[rest] - inter, 1e-12)
        order = rest[iou <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)
