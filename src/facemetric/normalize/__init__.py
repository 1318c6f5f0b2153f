"""Score normalisation, test-time adaptation, fusion and calibration around any pair metric.

Every class here is itself a :class:`~facemetric.metrics.base.PairMetric` wrapping another
one, named by a *metric spec*: a method name ("cosine"), a dict ``{"method": "lda", **params}``
or a PairMetric instance (instances cannot be saved; names and dicts can).
Transductive classes (``transductive = True``) look at the test descriptors and are labelled
as such in reports.
"""

from facemetric.normalize.calibration import LogisticCalibrator
from facemetric.normalize.calibrated import Calibrated
from facemetric.normalize.cohort import draw_cohort
from facemetric.normalize.cohort_norm import ASNorm, CohortNorm, SNorm, TNorm, ZNorm
from facemetric.normalize.fusion import WeightedFusion
from facemetric.normalize.rerank import KReciprocalRerank
from facemetric.normalize.test_center import TestCenter

__all__ = [
    "ASNorm", "Calibrated", "CohortNorm", "KReciprocalRerank", "LogisticCalibrator", "SNorm", "TNorm",
    "TestCenter", "WeightedFusion", "ZNorm", "draw_cohort",
]
