"""Adapters for metric-learn's supervised learners (optional extra ``metric-learn``).

Each learns a Mahalanobis projection ``L`` (metric-learn's ``components_``) on
L2-normalised, PCA-reduced, subsampled training descriptors; scoring is the cosine of
``L P^T (l2n(x) - mean)`` (``similarity="cosine"``) or ``-||L P^T (x1 - x2)||^2``
(``similarity="euclidean"``). These learners are iterative and scale badly (ITML and LMNN
look at pairs or neighbours, NCA and MLKR at all pairs of a batch), hence:

* ``n_pca`` (default 64): PCA dimensions before the learner;
* ``max_samples`` (default 2000): descriptors kept, by whole identities drawn with ``seed``
  (identities with one image are dropped first: they give no same-person information);
* ``max_iter``: passed to the learner;
* ITML gets ``min(20 * n_identities, 4000)`` sampled constraints instead of its default
  ``20 * n_identities ** 2``.

MLKR is a regression learner; it gets one random scalar target per identity (drawn with
``seed``), so that it learns to pull same-identity neighbours together.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, ClassVar, Iterator

import numpy as np

from facemetric.constraints import Interval, Options
from facemetric.errors import require
from facemetric.metrics._stats import drop_small_identities, encode_labels, pca_basis, project
from facemetric.metrics.base import l2_normalize
from facemetric.metrics.projection import SIMILARITIES, LinearProjection


@contextmanager
def _sklearn_compat() -> Iterator[None]:
    """metric-learn 0.7.0 passes ``force_all_finite``, which scikit-learn 1.8 renamed ``ensure_all_finite``.

    Rename it on the fly inside ``metric_learn._util`` while a learner fits (inputs are
    already checked finite by facemetric).
    """
    util = require("metric_learn._util", "metric-learn")
    originals = {name: getattr(util, name) for name in ("check_array", "check_X_y")}

    def renamed(func: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            if "force_all_finite" in kwargs:
                kwargs["ensure_all_finite"] = kwargs.pop("force_all_finite")
            return func(*args, **kwargs)

        return call

    for name, func in originals.items():
        setattr(util, name, renamed(func))
    try:
        yield
    finally:
        for name, func in originals.items():
            setattr(util, name, func)


class MetricLearnAdapter(LinearProjection):
    """Base of the metric-learn adapters; subclasses name the learner and its arguments."""

    min_features = 2
    _parameter_constraints = {
        "n_pca": [None, Interval("int", 1)],
        "max_samples": [Interval("int", 4)],
        "max_iter": [Interval("int", 1)],
        "similarity": [Options(SIMILARITIES)],
    }
    learner_name: ClassVar[str] = ""

    def __init__(
        self,
        n_pca: int | None = 64,
        max_samples: int = 2000,
        max_iter: int = 100,
        similarity: str = "cosine",
        seed: int = 0,
    ) -> None:
        self.n_pca = n_pca
        self.max_samples = max_samples
        self.max_iter = max_iter
        self.similarity = similarity
        self.seed = seed

    def _learner(self, ml: Any) -> Any:
        raise NotImplementedError

    def _targets(self, codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return codes

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        ml = require("metric_learn", "metric-learn")
        Z = l2_normalize(X)
        Z, y = drop_small_identities(Z, y, type(self).__name__)
        names, codes = encode_labels(y)
        rng = np.random.default_rng(self.seed)
        if Z.shape[0] > self.max_samples:  # whole identities, in a seeded random order
            order = rng.permutation(names.size)
            sizes = np.bincount(codes, minlength=names.size)[order]
            chosen = order[: max(2, int(np.searchsorted(np.cumsum(sizes), self.max_samples, side="right")))]
            rows = np.flatnonzero(np.isin(codes, chosen))
            Z, codes = Z[rows], np.unique(codes[rows], return_inverse=True)[1].ravel()
        mean, V = pca_basis(Z, self.n_pca, type(self).__name__, "n_pca")
        if self.n_pca is None:
            V = np.eye(Z.shape[1])
        P = project(Z, mean, V)
        self.n_constraints_ = int(min(20 * names.size, 4000))
        learner = self._learner(ml)
        with _sklearn_compat():
            learner.fit(P, self._targets(codes, rng))
        L = np.asarray(learner.components_, dtype=np.float64)  # (k, n_pca)
        self.n_iter_ = int(getattr(learner, "n_iter_", self.max_iter))
        self.mean_ = mean.astype(np.float32)
        self.components_ = (L @ V.T).astype(np.float32)  # (k, d)


class MetricLearnITML(MetricLearnAdapter):
    """metric-learn's ``ITML_Supervised``: information-theoretic metric learning from sampled constraints."""

    def _learner(self, ml: Any) -> Any:
        # metric-learn's default of 20 * n_identities^2 constraints is far too many for faces
        return ml.ITML_Supervised(
            max_iter=self.max_iter, n_constraints=self.n_constraints_, random_state=self.seed
        )


class MetricLearnLMNN(MetricLearnAdapter):
    """metric-learn's ``LMNN``: large-margin nearest neighbours, 1 target neighbour (2 images suffice)."""

    def _learner(self, ml: Any) -> Any:
        return ml.LMNN(n_neighbors=1, max_iter=self.max_iter, random_state=self.seed)


class MetricLearnNCA(MetricLearnAdapter):
    """metric-learn's ``NCA``: neighbourhood components analysis."""

    def _learner(self, ml: Any) -> Any:
        return ml.NCA(max_iter=self.max_iter, random_state=self.seed)


class MetricLearnMLKR(MetricLearnAdapter):
    """metric-learn's ``MLKR`` on one random scalar target per identity."""

    def _learner(self, ml: Any) -> Any:
        return ml.MLKR(max_iter=self.max_iter, random_state=self.seed)

    def _targets(self, codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return rng.standard_normal(int(codes.max()) + 1)[codes]


class MetricLearnLFDA(MetricLearnAdapter):
    """metric-learn's ``LFDA``: local Fisher discriminant analysis."""

    def _learner(self, ml: Any) -> Any:
        return ml.LFDA(k=1)
