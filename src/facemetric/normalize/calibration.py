"""Logistic (Platt) calibration of scores to log-likelihood ratios and probabilities."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit, logit
from sklearn.linear_model import LogisticRegression

from facemetric.errors import ConfigError, InputError


class LogisticCalibrator:
    """``llr(s) = a s + b - logit(pi_train)``: a prior-free log-likelihood ratio of "same person".

    Fitted on scores of labelled pairs (never the test pairs). ``pi_train`` is the share of
    genuine pairs in those, so the LLR does not depend on it; ``probability(s, prior)`` turns
    the LLR into the posterior for the prior of genuine pairs expected in use.
    ``C`` is the inverse L2 regularisation of the logistic regression (large: nearly none).
    """

    def __init__(self, *, C: float = 1e4) -> None:
        self.C = C

    def fit(self, scores: Any, same: Any) -> LogisticCalibrator:
        s = np.asarray(scores, dtype=np.float64).ravel()
        t = np.asarray(same).ravel()
        if s.shape != t.shape:
            raise InputError(f"calibration got {s.size} scores but {t.size} labels")
        if not np.isfinite(s).all():
            raise InputError("calibration scores contain NaN or inf; fix the metric that produced them")
        if not np.isin(t, (0, 1)).all() or np.unique(t).size != 2:
            raise InputError("calibration labels must be 0/1 and contain both genuine and impostor pairs")
        if not self.C > 0:
            raise ConfigError(f"The 'C' parameter of LogisticCalibrator must be > 0. Got {self.C!r} instead.")
        self.center_ = float(s.mean())
        self.scale_ = float(max(s.std(), 1e-12))
        model = LogisticRegression(C=float(self.C), max_iter=1000).fit(((s - self.center_) / self.scale_)[:, None], t)
        slope = float(model.coef_[0, 0])
        if slope <= 0:
            raise InputError("calibration scores do not rank genuine pairs above impostors; "
                             "check the metric and the labels")
        self.slope_ = slope / self.scale_
        self.offset_ = float(model.intercept_[0]) - slope * self.center_ / self.scale_
        self.train_prior_ = float(t.mean())
        return self

    def llr(self, scores: Any) -> np.ndarray:
        """Natural-log likelihood ratio of "same person" against "different people"."""
        if not hasattr(self, "slope_"):
            from facemetric.errors import NotFittedError

            raise NotFittedError("LogisticCalibrator is not fitted; call fit(scores, labels) first")
        s = np.asarray(scores, dtype=np.float64)
        return self.slope_ * s + self.offset_ - logit(self.train_prior_)

    def probability(self, scores: Any, prior: float = 0.5) -> np.ndarray:
        """Posterior probability of "same person" when a share ``prior`` of the pairs are genuine."""
        if not 0.0 < prior < 1.0:
            raise ConfigError(f"The 'prior' must be in (0, 1). Got {prior!r} instead.")
        return expit(self.llr(scores) + logit(prior))
