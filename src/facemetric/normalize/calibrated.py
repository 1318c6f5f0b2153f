"""A metric whose scores are calibrated log-likelihood ratios, with thresholds at chosen FARs."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit, logit

from facemetric.errors import ConfigError
from facemetric.metrics.base import PairMetric
from facemetric.metrics.sampling import sample_pairs, split_identities
from facemetric.normalize.calibration import LogisticCalibrator
from facemetric.normalize.wrapped import build_metric
from facemetric.verify.curves import DEFAULT_FARS
from facemetric.verify.thresholds import operating_thresholds


class Calibrated(PairMetric):
    """``metric`` followed by logistic calibration: ``pair_score`` is the natural-log LLR.

    The wrapped metric is fitted on the training identities outside a held-out ``holdout``
    share; ``n_pairs`` pairs drawn among the held-out identities (seeded) fit the calibration
    and are kept for :meth:`thresholds`. ``refit=True`` refits the metric on all training data
    afterwards (more data, slightly less exact calibration). Never calibrated on test pairs.
    """

    family = "normalisation"
    needs_labels = True

    def __init__(self, metric: Any = "cosine", *, holdout: float = 0.3, n_pairs: int = 20000, C: float = 1e4,
                 refit: bool = False, seed: int = 0) -> None:
        self.metric = metric
        self.holdout = holdout
        self.n_pairs = n_pairs
        self.C = C
        self.refit = refit
        self.seed = seed

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        if y is None:
            raise ConfigError("Calibrated needs identity labels to draw its calibration pairs")
        y = np.asarray(y)
        metric = build_metric(self.metric)
        if metric.transductive:
            raise ConfigError("calibration needs an inductive metric; transductive scores change with the test set")
        keep, held = split_identities(y, self.holdout, self.seed)
        metric.fit(X[keep], y[keep])
        ia, ib, same = sample_pairs(y[held], self.n_pairs, self.seed + 1)
        raw = metric.score_pairs(X[held], ia, ib)
        calibrator = LogisticCalibrator(C=self.C).fit(raw, same)
        self.slope_ = calibrator.slope_
        self.offset_ = calibrator.offset_
        self.train_prior_ = calibrator.train_prior_
        self.calibration_scores_ = raw
        self.calibration_same_ = same.astype(np.int8)
        if self.refit:
            metric.fit(X, y)
        self.base_ = metric

    def calibrator(self) -> LogisticCalibrator:
        cal = LogisticCalibrator(C=self.C)
        cal.slope_, cal.offset_, cal.train_prior_ = self.slope_, self.offset_, self.train_prior_
        return cal

    def prepare(self, X: np.ndarray) -> np.ndarray:
        return self.base_.prepare(X)

    def score_prepared(self, Za: np.ndarray, Zb: np.ndarray) -> np.ndarray:
        return self.calibrator().llr(self.base_.score_prepared(Za, Zb))

    def predict_proba(self, Xa: Any, Xb: Any, prior: float = 0.5) -> np.ndarray:
        """Probability that each pair shows the same person, for a share ``prior`` of genuine pairs."""
        if not 0.0 < prior < 1.0:
            raise ConfigError(f"The 'prior' must be in (0, 1). Got {prior!r} instead.")
        llr = self.pair_score(Xa, Xb)
        return expit(llr + logit(prior))

    def thresholds(self, fars: Any = DEFAULT_FARS) -> list[dict[str, Any]]:
        """Thresholds on the LLR scale at the target FARs, measured on the calibration pairs."""
        self._check_fitted()
        llr = self.calibrator().llr(self.calibration_scores_)
        entries = operating_thresholds(llr, self.calibration_same_, fars)
        for entry in entries:
            entry["threshold_raw"] = float((entry["threshold"] + logit(self.train_prior_) - self.offset_) / self.slope_)
        return entries
