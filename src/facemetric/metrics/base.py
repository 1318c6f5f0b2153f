"""The one base class of every pair metric.

A metric learns (or not) from training descriptors with identity labels, then scores
pairs: **higher always means "same person"**. Scoring is split in two steps so that big
protocols stay fast and small in memory:

* ``prepare(X)`` maps descriptors once, row by row (normalise, centre, project...);
* ``score_prepared(Za, Zb)`` scores aligned rows of prepared descriptors.

``score_pairs(X, ia, ib)`` prepares ``X`` once and scores index pairs in chunks.
Subclasses write ``_fit`` (the maths) and override ``prepare``/``score_prepared``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from facemetric.errors import InputError, NotFittedError
from facemetric.types import DescriptorSet, Provenance, check_matrix

DEFAULT_CHUNK = 1 << 17


def rowwise_dot(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Dot product of aligned rows, float32 in and out."""
    return np.einsum("ij,ij->i", A, B)


def l2_normalize(X: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.maximum(norms, eps)


class PairMetric(BaseEstimator):
    """Base class: ``fit(X, y)`` then ``pair_score(Xa, Xb)`` (higher = same person).

    Class attributes describe the method:

    * ``needs_labels``: ``fit`` requires identity labels;
    * ``transductive``: the method looks at the test descriptors (reported as such);
    * ``is_projection``: ``transform`` is defined.
    """

    needs_labels: ClassVar[bool] = True
    transductive: ClassVar[bool] = False
    is_projection: ClassVar[bool] = False

    # --- fitting -----------------------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> PairMetric:
        X = check_matrix(X, "training descriptors")
        if X.shape[0] == 0:
            raise InputError("training descriptors are empty; give at least two identities")
        if self.needs_labels:
            if y is None:
                raise InputError(f"{type(self).__name__} needs identity labels to fit")
            y = np.asarray(y)
            if y.shape[0] != X.shape[0]:
                raise InputError(f"{X.shape[0]} training descriptors but {y.shape[0]} labels")
        self.n_features_in_ = X.shape[1]
        self._fit(X, y)
        return self

    def fit_descriptors(self, descriptors: DescriptorSet) -> PairMetric:
        """Fit on a :class:`DescriptorSet`, remembering its provenance for later checks."""
        self.fit(descriptors.X, descriptors.labels)
        self.provenance_ = descriptors.provenance.to_dict()
        return self

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        """Learn the state; set attributes ending in ``_``. Default: nothing to learn."""

    # --- scoring -----------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "n_features_in_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit() or load a model first")

    def _check_dim(self, X: np.ndarray, what: str) -> np.ndarray:
        X = check_matrix(X, what)
        self._check_fitted()
        if X.shape[1] != self.n_features_in_:
            raise InputError(
                f"{what} have dimension {X.shape[1]} but {type(self).__name__} was fitted on "
                f"dimension {self.n_features_in_}; use descriptors from the same backbone and flip fusion"
            )
        return X

    def check_descriptors(self, descriptors: DescriptorSet) -> None:
        """Refuse descriptors whose backbone or dimension differ from the training ones."""
        self._check_dim(descriptors.X[:1], "descriptors")
        trained = getattr(self, "provenance_", None)
        if trained is None:
            return
        known = Provenance.from_dict(trained)
        got = descriptors.provenance
        for key in ("backbone", "flip_fusion"):
            a, b = getattr(known, key), getattr(got, key)
            if "unknown" not in (a, b) and a != b:
                raise InputError(
                    f"model was fitted on {key}={a!r} descriptors but these have {key}={b!r}; "
                    "fit a model on descriptors from the same pipeline"
                )

    def prepare(self, X: np.ndarray) -> np.ndarray:
        """Map descriptors row by row before scoring. Default: identity."""
        return X

    def score_prepared(self, Za: np.ndarray, Zb: np.ndarray) -> np.ndarray:
        """Score aligned rows of prepared descriptors."""
        raise NotImplementedError

    def pair_score(self, Xa: Any, Xb: Any) -> np.ndarray:
        """Similarity of each row of ``Xa`` with the same row of ``Xb``; higher = same person."""
        Xa = self._check_dim(Xa, "first descriptors")
        Xb = self._check_dim(Xb, "second descriptors")
        if Xa.shape[0] != Xb.shape[0]:
            raise InputError(f"pair_score got {Xa.shape[0]} first and {Xb.shape[0]} second descriptors")
        return self.score_prepared(self.prepare(Xa), self.prepare(Xb)).astype(np.float64)

    def pair_distance(self, Xa: Any, Xb: Any) -> np.ndarray:
        """``-pair_score``: lower = same person."""
        return -self.pair_score(Xa, Xb)

    def score_pairs(
        self, X: Any, ia: np.ndarray, ib: np.ndarray, *, chunk_size: int = DEFAULT_CHUNK
    ) -> np.ndarray:
        """Score index pairs ``(X[ia], X[ib])`` in chunks; ``X`` is prepared once."""
        X = self._check_dim(X, "descriptors")
        ia = np.asarray(ia, dtype=np.int64)
        ib = np.asarray(ib, dtype=np.int64)
        if ia.shape != ib.shape:
            raise InputError(f"{ia.size} first indices but {ib.size} second indices")
        if ia.size and (min(ia.min(), ib.min()) < 0 or max(ia.max(), ib.max()) >= X.shape[0]):
            raise InputError(
                f"a pair points at row {int(max(ia.max(), ib.max()))} but there are only {X.shape[0]} descriptors"
            )
        Z = self.prepare(X)
        out = np.empty(ia.shape[0], dtype=np.float64)
        for start in range(0, ia.shape[0], chunk_size):
            sl = slice(start, start + chunk_size)
            out[sl] = self.score_prepared(Z[ia[sl]], Z[ib[sl]])
        return out
