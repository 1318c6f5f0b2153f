"""Base class of the test-set (transductive) methods: they score pairs knowing all test descriptors.

The *test set* is the set of distinct descriptors the pairs refer to: the rows named by
``(ia, ib)`` in ``score_pairs(X, ia, ib)``, or the distinct rows of ``Xa`` and ``Xb`` in
``pair_score(Xa, Xb)``, so both calls give the same scores for the same pairs. Rows of ``X``
that no pair names are ignored.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from facemetric.errors import InputError
from facemetric.metrics.base import DEFAULT_CHUNK, PairMetric, check_index_pairs
from facemetric.metrics.pose_aware import check_yaw


class TransductiveMetric(PairMetric):
    """Subclasses write ``_fit`` (keeping the fitted wrapped metric as ``base_``) and ``score_test(T, ja, jb)``,
    where ``T`` holds each test descriptor once.

    Subclasses that set ``uses_pose`` get ``score_test(T, ja, jb, yaw=...)``: the yaw (degrees) of
    each row of ``T``, or None when the test set has no pose. They never get labels or pair names:
    only descriptors, their yaw and which rows the pairs join.
    """

    family = "transductive"
    transductive = True
    needs_labels = False

    def score_test(self, T: np.ndarray, ja: np.ndarray, jb: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def score_pairs(self, X: Any, ia: Any, ib: Any, *, chunk_size: int = DEFAULT_CHUNK,
                    yaw: Any = None) -> np.ndarray:
        """Scores of the pairs; ``score_test`` sees each named row once (and its yaw when ``uses_pose``)."""
        X = self._check_dim(X, "descriptors")
        ia, ib = check_index_pairs(ia, ib, X.shape[0])
        if ia.size == 0:
            return np.empty(0, dtype=np.float64)
        rows, inverse = np.unique(np.concatenate([ia, ib]), return_inverse=True)
        pose = {}
        if self.uses_pose:
            yaw = check_yaw(yaw, X.shape[0], "descriptors")
            pose = {"yaw": None if yaw is None else yaw[rows]}
        return self.score_test(X[rows], inverse[: ia.size], inverse[ia.size :], **pose).astype(np.float64)

    def pair_score(self, Xa: Any, Xb: Any) -> np.ndarray:
        Xa = self._check_dim(Xa, "first descriptors")
        Xb = self._check_dim(Xb, "second descriptors")
        if Xa.shape[0] != Xb.shape[0]:
            raise InputError(f"pair_score got {Xa.shape[0]} first and {Xb.shape[0]} second descriptors")
        if Xa.shape[0] == 0:
            return np.empty(0, dtype=np.float64)
        T, inverse = np.unique(np.vstack([Xa, Xb]), axis=0, return_inverse=True)
        inverse = inverse.ravel()
        n = Xa.shape[0]
        return self.score_test(T, inverse[:n], inverse[n:]).astype(np.float64)
