"""Contest metrics: one number per submission and split, higher is better.

``metric`` is one of:

* ``"auc"``: ROC-AUC (the default, as in the seed hackathon);
* ``"accuracy"``: 10-fold verification accuracy, the threshold chosen on the other folds only
  (folds are stratified by label and seeded, so every submission is cut the same way);
* ``"tar@far=1e-3"`` (any FAR): the true accept rate at that false accept rate.

The maths lives in :mod:`facemetric.verify`; this module only parses the name and calls it.
"""

from __future__ import annotations

import numpy as np

from facemetric.errors import ConfigError

# Public scores are rounded to this many decimals before they are stored or shown (as Kaggle does);
# docs/challenge.md ("Probing") says what rounding and the daily limit leave to a prober.
PUBLIC_DECIMALS = 5


def check_metric(metric: str, labels: np.ndarray | None = None) -> str:
    """Return the canonical metric name, or raise naming the accepted forms.

    With ``labels`` (one split's answers), also refuse a TAR@FAR target the split cannot measure.
    """
    name = metric.strip().lower()
    if name in ("auc", "roc-auc", "roc_auc"):
        return "auc"
    if name in ("accuracy", "acc"):
        return "accuracy"
    if name.startswith("tar@far="):
        try:
            far = float(name.split("=", 1)[1])
        except ValueError:
            far = float("nan")
        if not 0.0 < far < 1.0:
            raise ConfigError(f"metric {metric!r}: the FAR must be a number in (0, 1), e.g. tar@far=1e-3")
        if labels is not None:
            n_neg = int(np.sum(np.asarray(labels) == 0))
            if far * n_neg < 1.0:
                raise ConfigError(
                    f"metric {metric!r}: a split with {n_neg} different-person pairs cannot measure "
                    f"FAR {far:g} (needs at least {int(np.ceil(1 / far))}); choose a larger FAR"
                )
        return f"tar@far={far:g}"
    raise ConfigError(f"unknown contest metric {metric!r}; use auc, accuracy or tar@far=<value>")


def score_split(metric: str, labels: np.ndarray, scores: np.ndarray, *, seed: int = 0) -> float:
    """The contest score of ``scores`` against ``labels`` (1 = same person)."""
    from facemetric import verify

    name = check_metric(metric)
    labels = np.asarray(labels)
    scores = np.asarray(scores, dtype=np.float64)
    if name == "auc":
        return float(verify.roc_auc(labels, scores))
    if name == "accuracy":
        return float(verify.kfold_accuracy(labels, scores, seed=seed).mean)
    far = float(name.split("=", 1)[1])
    return float(verify.tar_at_far(labels, scores, fars=(far,))[far])
