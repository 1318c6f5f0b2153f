"""SCRFD / RetinaFace-family ONNX face detector with 5 keypoints (InsightFace export layout).

The network sees an RGB canvas scaled as (x - 127.5) / 128. For each stride s (8, 16,
32 ...) it outputs, per anchor, a score, four distances (left, top, right, bottom) and ten
keypoint offsets, all in units of s, measured from the anchor centre; there are
``num_anchors`` (normally 2) anchors per feature-map cell, row-major.

The outputs are matched to their role and stride by their shapes, never by their names or
order: the last dimension (1 = score, 4 = box, 10 = keypoints) gives the role and the row
count ((H/s) * (W/s) * anchors) gives the stride. ``scrfd_2.5g_bnkps.onnx`` lists them
as scores 8/16/32, boxes 8/16/32, keypoints 8/16/32.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facemetric.detect.base import Face, check_image
from facemetric.detect.canvas import CanvasDetector, CanvasRule, default_canvas
from facemetric.detect.geometry import anchor_centers, distance2bbox, distance2kps, letterbox, nms
from facemetric.errors import ConfigError, bad_file
from facemetric.io.digest import file_digest
from facemetric.onnx_runtime import open_session

ROLE_BY_WIDTH = {1: "score", 4: "box", 10: "kps"}


class ScrfdDetector(CanvasDetector):
    """SCRFD detector.

    ``canvas`` is the :class:`~facemetric.detect.canvas.CanvasRule` (default: the image's own
    size rounded up to 32, scaled down to ``DEFAULT_MAX_SIDE["scrfd"]`` at most, never up);
    ``input_size`` (w, h) is the older way to ask for a fixed canvas. A model with a fixed input
    shape keeps its own canvas, and the rule says at which scale the image sits on it.
    """

    def __init__(self, model_path: str | Path, *, input_size: tuple[int, int] | None = None,
                 canvas: CanvasRule | None = None, score_threshold: float = 0.5, nms_threshold: float = 0.4,
                 threads: int | None = None):
        self.model_path = Path(model_path)
        self.score_threshold = float(score_threshold)
        self.nms_threshold = float(nms_threshold)
        if not 0.0 <= self.score_threshold <= 1.0:
            raise ConfigError(f"The 'score_threshold' of scrfd must be in [0, 1]; got {score_threshold!r}")
        if input_size is not None and canvas is not None:
            raise ConfigError("give the scrfd canvas either as input_size or as canvas, not both")
        if input_size is not None:
            canvas = CanvasRule(size=tuple(input_size), upscale=True)
        self.session_ = open_session(self.model_path, threads, what="SCRFD detector")
        inp = self.session_.get_inputs()[0]
        self.input_name_ = inp.name
        h, w = inp.shape[2], inp.shape[3]
        self.model_size_ = (int(w), int(h)) if isinstance(h, int) and isinstance(w, int) else None
        self.canvas_ = canvas or default_canvas("scrfd")
        if self.model_size_ is None and self.canvas_.size is not None and (
                self.canvas_.size[0] % 32 or self.canvas_.size[1] % 32):
            raise ConfigError(f"The 'input_size' of scrfd must be multiples of 32; got {self.canvas_.size!r} "
                              f"instead")
        self.output_names_ = [o.name for o in self.session_.get_outputs()]
        self.name = f"scrfd:{self.model_path.name}@{self.canvas_label}"
        self.model_hash = file_digest(self.model_path, length=16)

    def _layout(self, outputs: list[np.ndarray], width: int, height: int):
        """Group raw outputs into {stride: (scores, boxes, kps)} and return the anchors per cell."""
        by_role: dict[str, list[np.ndarray]] = {"score": [], "box": [], "kps": []}
        for out in outputs:
            role = ROLE_BY_WIDTH.get(out.shape[-1])
            if role is None:
                raise bad_file(self.model_path, f"unexpected output shape {out.shape}",
                               "expected SCRFD outputs with last dimension 1, 4 or 10")
            by_role[role].append(out.reshape(-1, out.shape[-1]))
        if not by_role["kps"]:
            raise bad_file(self.model_path, "this SCRFD model has no keypoint outputs",
                           "use a *_kps / *_bnkps model; alignment needs the 5 landmarks")
        n = len(by_role["score"])
        if not (n == len(by_role["box"]) == len(by_role["kps"])):
            raise bad_file(self.model_path, "score, box and keypoint outputs do not come in equal numbers")
        strides = [8 * 2**i for i in range(n)]
        cells = -(-height // 8) * -(-width // 8)
        rows = max(o.shape[0] for o in by_role["score"])
        if rows % cells:
            raise bad_file(self.model_path, f"output rows {rows} do not fit stride 8 on {width}x{height}")
        num_anchors = rows // cells
        levels = {}
        for role, outs in by_role.items():
            for out in sorted(outs, key=lambda o: -o.shape[0]):
                stride = next(s for s in strides if role not in levels.get(s, {}))
                levels.setdefault(stride, {})[role] = out
        return levels, num_anchors

    def detect(self, image_rgb: np.ndarray, image_id: str | None = None) -> list[Face]:
        image = check_image(image_rgb)
        place = self.canvas_.place(image.shape[1], image.shape[0], self.model_size_)
        width, height = place.width, place.height
        canvas = letterbox(image, place)
        blob = ((canvas.astype(np.float32) - 127.5) / 128.0).transpose(2, 0, 1)[None]
        outputs = self.session_.run(self.output_names_, {self.input_name_: blob})
        levels, num_anchors = self._layout(outputs, width, height)
        all_scores, all_boxes, all_kps = [], [], []
        for stride, level in sorted(levels.items()):
            centers = anchor_centers(height, width, stride, num_anchors)
            scores = level["score"][:, 0]
            if len(centers) != len(scores):
                raise bad_file(self.model_path, f"stride {stride} output has {len(scores)} rows, "
                               f"expected {len(centers)}")
            keep = scores >= self.score_threshold
            if not keep.any():
                continue
            all_scores.append(scores[keep])
            all_boxes.append(distance2bbox(centers[keep], level["box"][keep] * stride))
            all_kps.append(distance2kps(centers[keep], level["kps"][keep] * stride))
        if not all_scores:
            return []
        scores = np.concatenate(all_scores)
        boxes = place.boxes_to_image(np.concatenate(all_boxes))
        kps = place.to_image(np.concatenate(all_kps))
        kept = nms(boxes, scores, self.nms_threshold)
        return [Face(box=boxes[i], score=float(scores[i]), landmarks=kps[i]) for i in kept]
