"""Pure verification evaluation: ROC/DET, AUC, k-fold accuracy, EER, TAR@FAR, bootstrap CIs.

Labels are 1 for "same person"; a higher score always means "same person".
Plots live in :mod:`facemetric.verify.plots` (matplotlib is imported only there).
"""

from facemetric.verify.accuracy import KFoldAccuracy, best_threshold, kfold_accuracy, make_folds
from facemetric.verify.bootstrap import PairedTestResult, bootstrap_cis, paired_test
from facemetric.verify.curves import DEFAULT_FARS, det_curve, eer, far_key, roc_auc, roc_curve, tar_at_far
from facemetric.verify.evaluation import VerificationResult, evaluate_scores
from facemetric.verify.guard import ProtocolWarning, check_protocol, protocol_identities
from facemetric.verify.thresholds import choose_threshold, operating_thresholds, save_thresholds

__all__ = [
    "DEFAULT_FARS",
    "KFoldAccuracy",
    "PairedTestResult",
    "ProtocolWarning",
    "VerificationResult",
    "best_threshold",
    "bootstrap_cis",
    "check_protocol",
    "choose_threshold",
    "det_curve",
    "eer",
    "evaluate_scores",
    "far_key",
    "kfold_accuracy",
    "make_folds",
    "operating_thresholds",
    "paired_test",
    "protocol_identities",
    "roc_auc",
    "roc_curve",
    "save_thresholds",
    "tar_at_far",
]
