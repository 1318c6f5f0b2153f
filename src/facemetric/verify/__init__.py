"""Pure verification evaluation: ROC/DET, AUC, k-fold accuracy, EER, TAR@FAR, bootstrap CIs that
resample identities (:mod:`facemetric.verify.units`), DeLong's AUC standard error.

Labels are 1 for "same person"; a higher score always means "same person".
Plots live in :mod:`facemetric.verify.plots` (matplotlib is imported only there).
"""

from facemetric.verify.accuracy import KFoldAccuracy, best_threshold, kfold_accuracy, make_folds
from facemetric.verify.bootstrap import PairedTestResult, bootstrap_cis, paired_test
from facemetric.verify.curves import DEFAULT_FARS, det_curve, eer, far_key, roc_auc, roc_curve, tar_at_far
from facemetric.verify.delong import DelongResult, delong_auc
from facemetric.verify.evaluation import VerificationResult, evaluate_scores
from facemetric.verify.guard import ProtocolWarning, check_protocol, protocol_identities
from facemetric.verify.thresholds import choose_threshold, operating_thresholds, save_thresholds
from facemetric.verify.units import RESAMPLE_CHOICES, ResamplingUnits, resampling_units

__all__ = [
    "DEFAULT_FARS",
    "RESAMPLE_CHOICES",
    "DelongResult",
    "KFoldAccuracy",
    "PairedTestResult",
    "ProtocolWarning",
    "ResamplingUnits",
    "VerificationResult",
    "best_threshold",
    "bootstrap_cis",
    "check_protocol",
    "choose_threshold",
    "delong_auc",
    "det_curve",
    "eer",
    "evaluate_scores",
    "far_key",
    "kfold_accuracy",
    "make_folds",
    "operating_thresholds",
    "paired_test",
    "protocol_identities",
    "resampling_units",
    "roc_auc",
    "roc_curve",
    "save_thresholds",
    "tar_at_far",
]
