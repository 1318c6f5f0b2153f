"""``pose-fusion``: score fusion whose weights depend on the pair's yaw gap (inductive, quality-aware).

Quality-aware fusion lets a side input decide how much each score is trusted. Here the side
input is the yaw gap of the pair, ``gap = |sin^2 yaw_a - sin^2 yaw_b|`` (0 for two photos of the
same pose, 1 for frontal against profile). A logistic regression on held-out training pairs (as
``fusion``: members fitted on the other training identities) learns

    score = sum_j (w_j + v_j gap) z_j + u gap + b,      z_j = (s_j - mu_j) / sd_j

so both the weight of each member and the offset may change with the gap. Half the training
pairs are drawn as usual, the other half between photos of different poses (a turned photo,
``|yaw| >= 20``, against any other), so that the gap terms have data to learn from. Without yaw
(the test set, or the training set) the gap is 0: the fusion of the members at equal pose.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from facemetric.errors import ConfigError
from facemetric.metrics.pose_aware import PoseAwareMixin
from facemetric.metrics.pose_plda import pose_curve
from facemetric.metrics.sampling import sample_pairs
from facemetric.normalize.fusion import WeightedFusion
from facemetric.normalize.wrapped import build_metric, spec_name

TURNED = 20.0


def yaw_gap(yaw_a: np.ndarray | None, yaw_b: np.ndarray | None, n: int) -> np.ndarray:
    """``|sin^2 a - sin^2 b|`` per pair; 0 where a yaw is unknown."""
    if yaw_a is None or yaw_b is None:
        return np.zeros(n)
    return np.nan_to_num(np.abs(pose_curve(yaw_a) - pose_curve(yaw_b)), nan=0.0)


def cross_pose_pairs(y: np.ndarray, yaw: np.ndarray, n_pairs: int, seed: int) -> tuple[np.ndarray, ...]:
    """Pairs with a turned first photo: half genuine (another photo of the person), half impostor."""
    rng = np.random.default_rng(seed)
    turned = np.flatnonzero(np.abs(np.nan_to_num(yaw)) >= TURNED)
    if turned.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int8)
    names, inverse = np.unique(y, return_inverse=True)
    members = [np.flatnonzero(inverse == k) for k in range(names.size)]
    ia, ib, same = [], [], []
    for k in range(n_pairs):
        a = int(rng.choice(turned))
        mine = members[inverse[a]]
        if k % 2 == 0 and mine.size > 1:
            b = int(rng.choice(mine[mine != a]))
        else:
            b = int(rng.integers(y.size))
            if inverse[b] == inverse[a]:
                continue
        ia.append(a)
        ib.append(b)
        same.append(int(inverse[a] == inverse[b]))
    return np.array(ia, np.int64), np.array(ib, np.int64), np.array(same, np.int8)


class PoseFusion(PoseAwareMixin, WeightedFusion):
    """Logistic fusion of ``metrics`` with yaw-gap-dependent weights; see the module docstring."""

    def __init__(self, metrics: Any = ("plda", "cosine"), *, holdout: float = 0.3, n_pairs: int = 20000,
                 C: float = 1.0, refit: bool = True, seed: int = 0) -> None:
        super().__init__(metrics, holdout=holdout, n_pairs=n_pairs, C=C, refit=refit, seed=seed)

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        for spec in list(self.metrics) if isinstance(self.metrics, (list, tuple)) else []:
            if getattr(build_metric(spec, "metrics"), "uses_pose", False):
                raise ConfigError(f"pose-fusion member {spec_name(spec)!r} must be a pose-blind metric")
        super()._fit(X, y)

    def _training_pairs(self, y: np.ndarray, held: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ia, ib, same = sample_pairs(y[held], self.n_pairs // 2, self.seed + 1)
        yaw = self._fit_yaw
        if yaw is None:
            return ia, ib, same
        ca, cb, cs = cross_pose_pairs(y[held], yaw[held], self.n_pairs - ia.size, self.seed + 2)
        return np.concatenate([ia, ca]), np.concatenate([ib, cb]), np.concatenate([same, cs])

    def _design(self, z: np.ndarray, held: np.ndarray, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
        yaw = self._fit_yaw
        gap = yaw_gap(None if yaw is None else yaw[held][ia], None if yaw is None else yaw[held][ib], ia.size)
        return np.hstack([z, z * gap[:, None], gap[:, None]])

    def _store_weights(self, coef: np.ndarray) -> None:
        k = coef.size // 2
        self.weights_, self.gap_weights_, self.gap_offset_ = coef[:k], coef[k:2 * k], float(coef[-1])

    def fused(self, z: np.ndarray, gap: np.ndarray) -> np.ndarray:
        return z @ self.weights_ + (z * gap[:, None]) @ self.gap_weights_ + self.gap_offset_ * gap + self.intercept_

    def score_prepared(self, Pa: np.ndarray, Pb: np.ndarray) -> np.ndarray:
        z = (self.member_scores(Pa, Pb) - self.score_mean_) / self.score_scale_
        return self.fused(z, np.zeros(Pa.shape[0]))

    def score_prepared_posed(self, Pa: np.ndarray, Pb: np.ndarray, yaw_a: np.ndarray, yaw_b: np.ndarray
                             ) -> np.ndarray:
        z = (self.member_scores(Pa, Pb) - self.score_mean_) / self.score_scale_
        return self.fused(z, yaw_gap(yaw_a, yaw_b, Pa.shape[0]))
