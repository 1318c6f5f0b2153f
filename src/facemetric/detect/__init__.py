"""Face detectors returning boxes, scores and 5 ArcFace-order landmarks (one file per backend)."""

from facemetric.detect.base import CHOOSE_POLICIES, Detector, Face, choose_face
from facemetric.detect.factory import make_detector

__all__ = ["CHOOSE_POLICIES", "Detector", "Face", "choose_face", "make_detector"]
