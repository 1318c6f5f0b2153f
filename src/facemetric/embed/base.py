"""The Embedder interface: aligned face crops in, one descriptor per crop out.

Every backend declares what it expects, so that the pipeline can align for it and the
provenance can record it: ``input_size`` (width, height), ``color_order`` ("RGB" or
"BGR": the channel order the *network* sees; callers always pass RGB), ``mean``/``std``
(the network input is (pixel - mean) / std), ``dim``, ``template`` (an alignment template
name from :data:`facemetric.align.TEMPLATES`) and ``model_hash``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from facemetric.errors import ConfigError, InputError

COLOR_ORDERS = ("RGB", "BGR")


class Embedder(ABC):
    """Base class of the descriptor backends; subclasses set the declared attributes in ``__init__``."""

    name: str
    input_size: tuple[int, int]
    color_order: str
    mean: float
    std: float
    dim: int
    template: str
    model_hash: str

    def check_crops(self, crops: np.ndarray) -> np.ndarray:
        """Raise unless ``crops`` is uint8 (N, H, W, 3) matching ``input_size``."""
        crops = np.asarray(crops)
        w, h = self.input_size
        if crops.ndim == 3:
            crops = crops[None]
        if crops.dtype != np.uint8 or crops.ndim != 4 or crops.shape[1:] != (h, w, 3):
            raise InputError(
                f"{self.name} needs uint8 RGB crops of shape (N, {h}, {w}, 3) aligned to the "
                f"{self.template!r} template; got {crops.dtype} {crops.shape}"
            )
        return crops

    def to_network_input(self, crops: np.ndarray) -> np.ndarray:
        """(N, 3, H, W) float32: channel order applied, then (x - mean) / std."""
        x = crops[..., ::-1] if self.color_order == "BGR" else crops
        x = (x.astype(np.float32) - np.float32(self.mean)) / np.float32(self.std)
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))

    def embed(self, crops: np.ndarray) -> np.ndarray:
        """(N, dim) float32 descriptors of uint8 RGB ``crops`` (N, H, W, 3)."""
        crops = self.check_crops(crops)
        if crops.shape[0] == 0:
            return np.zeros((0, self.dim), np.float32)
        out = np.asarray(self._embed(crops), dtype=np.float32)
        return out.reshape(crops.shape[0], self.dim)

    @abstractmethod
    def _embed(self, crops: np.ndarray) -> np.ndarray:
        """Descriptors of checked, non-empty crops."""

    def describe(self) -> dict:
        """The declared attributes, for provenance."""
        return {"name": self.name, "input_size": list(self.input_size), "color_order": self.color_order,
                "mean": self.mean, "std": self.std, "dim": self.dim, "template": self.template,
                "model_hash": self.model_hash}


def check_color_order(color_order: str) -> str:
    order = str(color_order).upper()
    if order not in COLOR_ORDERS:
        raise ConfigError(f"The 'color_order' parameter must be one of {COLOR_ORDERS}; "
                          f"got {color_order!r} instead")
    return order
