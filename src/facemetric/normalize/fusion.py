"""Weighted score fusion: a logistic regression on z-scored scores of several metrics.

The weights are learned on *held-out training identities*: the members are fitted on the
other training identities, verification pairs are drawn (seeded) among the held-out ones, and
the fusion learns from the members' scores on those pairs. With ``refit`` the members are then
refitted on all training descriptors. The fused score is a log-odds on the training pairs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from facemetric.constraints import Interval
from facemetric.errors import ConfigError
from facemetric.metrics.base import PairMetric
from facemetric.metrics.sampling import sample_pairs, split_identities
from facemetric.normalize.wrapped import build_metric, spec_name


class WeightedFusion(PairMetric):
    """``sum_j w_j (s_j - mu_j) / sd_j + b`` over the member metrics ``metrics`` (a list of specs).

    ``holdout``: fraction of the training identities (with 2+ images) that learn the weights;
    ``n_pairs``: pairs drawn among them; ``C``: inverse L2 regularisation of the logistic
    regression; ``refit``: refit the members on all training data afterwards. Members must be
    inductive (wrap the fusion in ``TestCenter`` to centre on the test set).
    """

    family = "normalisation"
    needs_labels = True
    _parameter_constraints = {"C": [Interval("float", 0, closed="neither")]}

    def __init__(self, metrics: Any = ("cosine",), *, holdout: float = 0.3, n_pairs: int = 20000,
                 C: float = 1.0, refit: bool = True, seed: int = 0) -> None:
        self.metrics = metrics
        self.holdout = holdout
        self.n_pairs = n_pairs
        self.C = C
        self.refit = refit
        self.seed = seed

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        specs = list(self.metrics) if isinstance(self.metrics, (list, tuple)) else None
        if not specs:
            raise ConfigError(f"The 'metrics' parameter of WeightedFusion must be a non-empty list of metric specs. "
                              f"Got {self.metrics!r} instead.")
        members = [build_metric(spec, "metrics") for spec in specs]
        for spec, member in zip(specs, members):
            if member.transductive:
                raise ConfigError(f"fusion member {spec_name(spec)!r} is transductive; fuse inductive metrics "
                                  "and wrap the fusion in test-center instead")
        if y is None:
            raise ConfigError("WeightedFusion needs identity labels to draw its training pairs")
        y = np.asarray(y)
        keep, held = split_identities(y, self.holdout, self.seed)
        ia, ib, same = self._training_pairs(y, held)
        scores = np.empty((ia.size, len(members)))
        for j, member in enumerate(members):
            member.fit(X[keep], y[keep])
            scores[:, j] = member.score_pairs(X[held], ia, ib)
        self.score_mean_ = scores.mean(axis=0)
        self.score_scale_ = np.maximum(scores.std(axis=0), 1e-12)
        model = LogisticRegression(C=float(self.C), max_iter=1000)
        model.fit(self._design((scores - self.score_mean_) / self.score_scale_, held, ia, ib), same)
        self._store_weights(model.coef_.ravel().astype(np.float64))
        self.intercept_ = float(model.intercept_[0])
        widths = []
        for member in members:
            if self.refit:
                member.fit(X, y)
            widths.append(np.asarray(member.prepare(X[:1])).shape[1])
        self.members_ = members
        self.member_widths_ = np.asarray(widths, dtype=np.int64)

    def _training_pairs(self, y: np.ndarray, held: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pairs ``(ia, ib, same)`` among the held-out rows ``held`` (indices into ``held``)."""
        return sample_pairs(y[held], self.n_pairs, self.seed + 1)

    def _design(self, z: np.ndarray, held: np.ndarray, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
        """The logistic regression's inputs for the z-scored member scores ``z`` of those pairs."""
        return z

    def _store_weights(self, coef: np.ndarray) -> None:
        self.weights_ = coef

    def member_names(self) -> list[str]:
        return [spec_name(spec) for spec in self.metrics]

    def prepare(self, X: np.ndarray) -> np.ndarray:
        parts = [np.asarray(member.prepare(X), dtype=np.float64) for member in self.members_]
        return np.hstack(parts)

    def member_scores(self, Pa: np.ndarray, Pb: np.ndarray) -> np.ndarray:
        """(n, n_members) raw scores of prepared rows."""
        edges = np.concatenate([[0], np.cumsum(self.member_widths_)])
        out = np.empty((Pa.shape[0], len(self.member_widths_)))
        for j, member in enumerate(self.members_):
            sl = slice(edges[j], edges[j + 1])
            out[:, j] = member.score_prepared(Pa[:, sl], Pb[:, sl])
        return out

    def score_prepared(self, Pa: np.ndarray, Pb: np.ndarray) -> np.ndarray:
        z = (self.member_scores(Pa, Pb) - self.score_mean_) / self.score_scale_
        return z @ self.weights_ + self.intercept_
