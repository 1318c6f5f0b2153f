"""Score normalisation, test-time adaptation, fusion and calibration around any pair metric.

Every class here is itself a :class:`~facemetric.metrics.base.PairMetric` wrapping another
one, named by a *metric spec*: a method name ("cosine"), a dict ``{"method": "lda", **params}``
or a PairMetric instance (instances cannot be saved; names and dicts can).
Transductive classes (``transductive = True``) look at the test descriptors and are labelled
as such in reports.
"""

from facemetric.normalize.asnorm import ASNorm
from facemetric.normalize.calibration import LogisticCalibrator
from facemetric.normalize.calibrated import Calibrated
from facemetric.normalize.cohort import draw_cohort
from facemetric.normalize.fusion import WeightedFusion
from facemetric.normalize.rerank import KReciprocalRerank
from facemetric.normalize.snorm import SNorm
from facemetric.normalize.test_center import TestCenter
from facemetric.normalize.thresholds import operating_thresholds, save_thresholds
from facemetric.normalize.tnorm import TNorm
from facemetric.normalize.znorm import ZNorm

__all__ = [
    "ASNorm", "Calibrated", "KReciprocalRerank", "LogisticCalibrator", "SNorm", "TNorm",
    "TestCenter", "WeightedFusion", "ZNorm", "draw_cohort", "operating_thresholds", "save_thresholds",
]
