"""The CLI names of the normalisation, fusion and calibration methods (merged into ``METHODS``)."""

from facemetric.normalize.asnorm import ASNorm
from facemetric.normalize.calibrated import Calibrated
from facemetric.normalize.fusion import WeightedFusion
from facemetric.normalize.rerank import KReciprocalRerank
from facemetric.normalize.snorm import SNorm
from facemetric.normalize.test_center import TestCenter
from facemetric.normalize.tnorm import TNorm
from facemetric.normalize.znorm import ZNorm

NORMALIZE_METHODS = {
    "z-norm": ZNorm,
    "t-norm": TNorm,
    "s-norm": SNorm,
    "as-norm": ASNorm,
    "test-center": TestCenter,
    "k-reciprocal": KReciprocalRerank,
    "fusion": WeightedFusion,
    "calibrated": Calibrated,
}
