"""OpenCV YuNet ONNX face detector with 5 keypoints, decoded here with onnxruntime.

YuNet is anchor-free with one prior per feature-map cell at strides 8, 16 and 32. For
each cell it outputs a class score, an objectness score, a box (dx, dy, log w, log h) and
five keypoint offsets, all in units of the stride from the cell's top-left corner; the
face score is sqrt(cls * obj). The network takes a BGR canvas with raw 0..255 values
(OpenCV's ``blobFromImage`` without scaling or channel swap), so the RGB input is
reversed here. The int8 ``yunet.onnx`` has a fixed 640x640 input: images are placed on it
by the canvas rule (by default at their own size, scaled down only when too large; see
:mod:`facemetric.detect.canvas`). Its keypoints come as right eye, left eye, nose, right and left mouth corner of
the *subject*, which is the ArcFace order as seen in the image (image-left eye first).
Outputs are matched by name (cls_8, obj_8, bbox_8, kps_8, ...), as YuNet exports them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facemetric.detect.base import Face, check_image
from facemetric.detect.canvas import CanvasDetector, CanvasRule, default_canvas
from facemetric.detect.geometry import letterbox, nms
from facemetric.errors import ConfigError, bad_file
from facemetric.io.digest import file_digest
from facemetric.onnx_runtime import open_session

STRIDES = (8, 16, 32)


class YunetDetector(CanvasDetector):
    """YuNet detector. ``canvas`` (a :class:`~facemetric.detect.canvas.CanvasRule`; default: the
    image's own size, scaled down to ``DEFAULT_MAX_SIDE["yunet"]`` at most, never up) places the
    image on the network input; ``input_size`` (w, h) asks for a fixed canvas, which applies
    only to models with a dynamic input shape (a fixed model keeps its own canvas)."""

    def __init__(self, model_path: str | Path, *, input_size: tuple[int, int] | None = None,
                 canvas: CanvasRule | None = None, score_threshold: float = 0.6, nms_threshold: float = 0.3,
                 threads: int | None = None):
        self.model_path = Path(model_path)
        self.score_threshold = float(score_threshold)
        self.nms_threshold = float(nms_threshold)
        if not 0.0 <= self.score_threshold <= 1.0:
            raise ConfigError(f"The 'score_threshold' of yunet must be in [0, 1]; got {score_threshold!r}")
        if input_size is not None and canvas is not None:
            raise ConfigError("give the yunet canvas either as input_size or as canvas, not both")
        if input_size is not None:
            canvas = CanvasRule(size=tuple(input_size), upscale=True)
        self.session_ = open_session(self.model_path, threads, what="YuNet detector")
        inp = self.session_.get_inputs()[0]
        self.input_name_ = inp.name
        h, w = inp.shape[2], inp.shape[3]
        self.model_size_ = (int(w), int(h)) if isinstance(h, int) and isinstance(w, int) else None
        self.canvas_ = canvas or default_canvas("yunet")
        fixed = self.model_size_ or self.canvas_.size
        if fixed is not None and (fixed[0] % 32 or fixed[1] % 32):
            raise ConfigError(f"The 'input_size' of yunet must be multiples of 32; got {fixed}")
        names = {o.name for o in self.session_.get_outputs()}
        wanted = [f"{k}_{s}" for s in STRIDES for k in ("cls", "obj", "bbox", "kps")]
        missing = [n for n in wanted if n not in names]
        if missing:
            raise bad_file(self.model_path, f"not a YuNet model: missing outputs {missing[:3]}",
                           "use OpenCV's face_detection_yunet ONNX export")
        self.output_names_ = wanted
        self.name = f"yunet:{self.model_path.name}@{self.canvas_label}"
        self.model_hash = file_digest(self.model_path, length=16)

    def detect(self, image_rgb: np.ndarray, image_id: str | None = None) -> list[Face]:
        image = check_image(image_rgb)
        place = self.canvas_.place(image.shape[1], image.shape[0], self.model_size_)
        width = place.width
        canvas = letterbox(image, place)
        blob = canvas[:, :, ::-1].astype(np.float32).transpose(2, 0, 1)[None]
        raw = dict(zip(self.output_names_, self.session_.run(self.output_names_, {self.input_name_: blob})))
        scores, boxes, kps = [], [], []
        for s in STRIDES:
            cls = np.clip(raw[f"cls_{s}"].reshape(-1), 0.0, 1.0)
            obj = np.clip(raw[f"obj_{s}"].reshape(-1), 0.0, 1.0)
            score = np.sqrt(cls * obj)
            keep = np.flatnonzero(score >= self.score_threshold)
            if not keep.size:
                continue
            cols = -(-width // s)
            cell = np.stack([keep % cols, keep // cols], axis=1).astype(np.float32)
            bb = raw[f"bbox_{s}"].reshape(-1, 4)[keep]
            centre = (cell + bb[:, :2]) * s
            size = np.exp(bb[:, 2:4]) * s
            boxes.append(np.concatenate([centre - size / 2, centre + size / 2], axis=1))
            kps.append((raw[f"kps_{s}"].reshape(-1, 5, 2)[keep] + cell[:, None, :]) * s)
            scores.append(score[keep])
        if not scores:
            return []
        scores_a = np.concatenate(scores)
        boxes_a = place.boxes_to_image(np.concatenate(boxes))
        kps_a = place.to_image(np.concatenate(kps))
        kept = nms(boxes_a, scores_a, self.nms_threshold)
        return [Face(box=boxes_a[i], score=float(scores_a[i]), landmarks=kps_a[i]) for i in kept]
