"""facemetric: metric learning and honest verification evaluation on face descriptors."""

from facemetric.errors import FacemetricError
from facemetric.types import DescriptorSet, PairProtocol, Provenance

__version__ = "0.1.0"

__all__ = ["DescriptorSet", "FacemetricError", "PairProtocol", "Provenance", "__version__"]
