"""What a pose-aware metric adds to :class:`PairMetric`: the yaw of the images at fit and score time.

``fit(X, y, yaw=None)`` and ``score_pairs(X, ia, ib, yaw=None)`` take one yaw (degrees) per row;
``fit_descriptors`` passes ``DescriptorSet.yaw``, and the experiment driver
(:func:`facemetric.experiments.driver.score_index_pairs`) passes it to every metric with
``uses_pose``. With no yaw (None, or NaN for an image) a pose-aware metric falls back to its
pose-blind scores, so it works on descriptor sets without landmarks (the LFW reference ``.npz``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from facemetric.errors import InputError
from facemetric.metrics.base import DEFAULT_CHUNK, check_index_pairs
from facemetric.types import DescriptorSet


def check_yaw(yaw: Any, n: int, what: str) -> np.ndarray | None:
    """``yaw`` as float64 (n,), or None; NaN marks an unknown pose."""
    if yaw is None:
        return None
    arr = np.asarray(yaw, dtype=np.float64)
    if arr.shape != (n,):
        raise InputError(f"{what}: {n} descriptors but yaw of shape {arr.shape}; give one yaw per descriptor")
    return arr


class PoseAwareMixin:
    """Put first in the bases of a :class:`PairMetric`; ``_fit`` reads the training yaw from ``self._fit_yaw``."""

    uses_pose: ClassVar[bool] = True

    def fit(self, X: Any, y: Any = None, yaw: Any = None):  # type: ignore[no-untyped-def]
        n = X.shape[0] if hasattr(X, "shape") and len(X.shape) else len(X)
        self._fit_yaw = None if yaw is None else check_yaw(yaw, n, "training descriptors")
        try:
            return super().fit(X, y)  # type: ignore[misc]
        finally:
            del self._fit_yaw

    def fit_descriptors(self, descriptors: DescriptorSet):  # type: ignore[no-untyped-def]
        self.fit(descriptors.X, descriptors.labels, yaw=descriptors.yaw)
        self.provenance_ = descriptors.provenance.to_dict()
        return self

    def score_pairs(self, X: Any, ia: Any, ib: Any, *, chunk_size: int = DEFAULT_CHUNK,
                    yaw: Any = None) -> np.ndarray:
        """Without yaw, the pose-blind scores; with it, :meth:`score_prepared_posed` on chunks of pairs."""
        X = self._check_dim(X, "descriptors")  # type: ignore[attr-defined]
        yaw = check_yaw(yaw, X.shape[0], "descriptors")
        if yaw is None:
            return super().score_pairs(X, ia, ib, chunk_size=chunk_size)  # type: ignore[misc]
        ia, ib = check_index_pairs(ia, ib, X.shape[0])
        return self.score_prepared_pairs(self.prepare(X), ia, ib, chunk_size=chunk_size,  # type: ignore[attr-defined]
                                         yaw=yaw)

    def score_prepared_pairs(self, Z: np.ndarray, ia: np.ndarray, ib: np.ndarray, *,
                             chunk_size: int = DEFAULT_CHUNK, yaw: np.ndarray | None = None) -> np.ndarray:
        """The one chunked loop of :class:`PairMetric`, with each side's yaw when it is given."""
        if yaw is None:
            return super().score_prepared_pairs(Z, ia, ib, chunk_size=chunk_size)  # type: ignore[misc]
        out = np.empty(ia.shape[0], dtype=np.float64)
        for lo in range(0, ia.shape[0], chunk_size):
            a, b = ia[lo:lo + chunk_size], ib[lo:lo + chunk_size]
            out[lo:lo + chunk_size] = self.score_prepared_posed(Z[a], Z[b], yaw[a], yaw[b])
        return out

    def score_prepared_posed(self, Pa: np.ndarray, Pb: np.ndarray, yaw_a: np.ndarray, yaw_b: np.ndarray
                             ) -> np.ndarray:
        """Scores of aligned prepared rows whose photos have these yaws (NaN: unknown). Default: pose-blind."""
        return self.score_prepared(Pa, Pb)  # type: ignore[attr-defined]
