"""Neural heads: a linear or residual-MLP projection of descriptors trained with pytorch-metric-learning.

torch is imported lazily, only while fitting; a fitted head scores with numpy alone.
"""

from facemetric.metrics.neural.head import NeuralHead
from facemetric.metrics.neural.linear import NeuralLinear
from facemetric.metrics.neural.losses import LOSSES, MINERS
from facemetric.metrics.neural.mlp import NeuralMLP

__all__ = ["LOSSES", "MINERS", "NeuralHead", "NeuralLinear", "NeuralMLP"]
