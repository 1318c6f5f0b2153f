"""insightface-style ArcFace ONNX descriptor models (ArcFace, MobileFaceNet, ...).

The input name and size are read from the model (NCHW, 3 channels). The model type is
never guessed from its tensors: the defaults are insightface's (RGB, (x - 127.5) / 127.5,
the ``arcface112`` template for 112x112 input), and ``color_order``, ``mean``, ``std`` and
``template`` override them for other models. A fixed batch dimension (e.g. 1) is served
by looping; a dynamic one by batches of ``batch_size``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facemetric.align.templates import TEMPLATES, get_template
from facemetric.embed.base import Embedder, check_color_order
from facemetric.errors import ConfigError, bad_file
from facemetric.io.digest import file_digest
from facemetric.onnx_runtime import open_session


class OnnxArcFaceEmbedder(Embedder):
    def __init__(self, model_path: str | Path, *, color_order: str = "RGB", mean: float = 127.5,
                 std: float = 127.5, template: str | None = None, batch_size: int = 32,
                 threads: int | None = None):
        self.model_path = Path(model_path)
        self.color_order = check_color_order(color_order)
        self.mean, self.std = float(mean), float(std)
        if self.std <= 0:
            raise ConfigError(f"The 'std' parameter must be positive; got {std!r} instead")
        if batch_size < 1:
            raise ConfigError(f"The 'batch_size' parameter must be >= 1; got {batch_size!r} instead")
        self.batch_size = int(batch_size)
        self.session_ = open_session(self.model_path, threads, what="descriptor model")
        inp = self.session_.get_inputs()[0]
        self.input_name_ = inp.name
        shape = list(inp.shape)
        if len(shape) != 4 or shape[1] != 3 or not isinstance(shape[2], int) or not isinstance(shape[3], int):
            raise bad_file(self.model_path, f"input {inp.name!r} has shape {shape}",
                           "expected an NCHW image input [N, 3, H, W] with fixed H and W")
        self.input_size = (int(shape[3]), int(shape[2]))
        self.fixed_batch_ = shape[0] if isinstance(shape[0], int) else None
        self.template = self._template_for(template)
        self.output_name_ = self.session_.get_outputs()[0].name
        out_shape = self.session_.get_outputs()[0].shape
        if isinstance(out_shape[-1], int):
            self.dim = int(out_shape[-1])
        else:  # dynamic descriptor size: ask the model once
            n = self.fixed_batch_ or 1
            w, h = self.input_size
            self.dim = int(self._run(np.zeros((n, 3, h, w), np.float32)).shape[-1])
        self.model_hash = file_digest(self.model_path, length=16)
        self.name = f"onnx:{self.model_path.name}"

    def _template_for(self, template: str | None) -> str:
        if template is not None:
            tpl = get_template(template)
            if tpl.size != self.input_size:
                raise ConfigError(f"template {tpl.name!r} makes {tpl.size[0]}x{tpl.size[1]} crops but "
                                  f"{self.model_path.name} takes {self.input_size[0]}x{self.input_size[1]}")
            return tpl.name
        matching = [t.name for t in TEMPLATES.values() if t.size == self.input_size]
        if len(matching) != 1:
            w, h = self.input_size
            raise ConfigError(f"{self.model_path.name} takes {w}x{h} input; "
                              f"name its alignment template with template=... "
                              f"(one of {', '.join(TEMPLATES)})")
        return matching[0]

    def _run(self, x: np.ndarray) -> np.ndarray:
        return self.session_.run([self.output_name_], {self.input_name_: x})[0]

    def _embed(self, crops: np.ndarray) -> np.ndarray:
        x = self.to_network_input(crops)
        step = self.fixed_batch_ or self.batch_size
        outs = []
        for start in range(0, x.shape[0], step):
            chunk = x[start:start + step]
            if self.fixed_batch_ and chunk.shape[0] < step:  # pad the last chunk of a fixed batch > 1
                pad = np.zeros((step - chunk.shape[0],) + chunk.shape[1:], np.float32)
                outs.append(self._run(np.concatenate([chunk, pad]))[: chunk.shape[0]])
            else:
                outs.append(self._run(chunk))
        return np.concatenate(outs).reshape(x.shape[0], -1)
