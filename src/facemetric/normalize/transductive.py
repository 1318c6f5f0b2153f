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
from facemetric.metrics.base import DEFAULT_CHUNK, PairMetric


class TransductiveMetric(PairMetric):
    """Subclasses write ``_fit`` (keeping the fitted wrapped metric as ``base_``) and ``score_test(T, ja, jb)``,
    where ``T`` holds each test descriptor once."""

    family = "transductive"
    transductive = True
    needs_labels = False

    def score_test(self, T: np.ndarray, ja: np.ndarray, jb: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def score_pairs(self, X: Any, ia: Any, ib: Any, *, chunk_size: int = DEFAULT_CHUNK) -> np.ndarray:
        X = self._check_dim(X, "descriptors")
        ia = np.asarray(ia, dtype=np.int64)
        ib = np.asarray(ib, dtype=np.int64)
        if ia.shape != ib.shape:
            raise InputError(f"{ia.size} first indices but {ib.size} second indices")
        if ia.size == 0:
            return np.empty(0, dtype=np.float64)
        if min(ia.min(), ib.min()) < 0 or max(ia.max(), ib.max()) >= X.shape[0]:
            raise InputError(
                f"a pair points at row {int(max(ia.max(), ib.max()))} but there are only {X.shape[0]} descriptors"
            )
        rows, inverse = np.unique(np.concatenate([ia, ib]), return_inverse=True)
        return self.score_test(X[rows], inverse[: ia.size], inverse[ia.size :]).astype(np.float64)

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
