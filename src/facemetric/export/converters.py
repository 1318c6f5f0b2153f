"""One ONNX converter per kind of fitted metric: its ``prepare``, pair score and (projections) embedding.

A converter writes into a :class:`~facemetric.export.graph.GraphBuilder` the same arithmetic the
metric runs in numpy, from its learned arrays:

* ``prepare(g, x)``: the prepared representation of descriptors ``x`` (tensor names);
* ``score(g, pa, pb)``: the (N,) pair scores of two prepared batches;
* ``matrix(g, p, rows)``: scores of prepared rows against constant prepared rows (for cohorts);
* ``embedding(g, x)``: what ``metric.transform`` returns (projection metrics only).

Transductive methods are refused: their scores depend on the whole test set, which a model that
scores one pair at a time cannot see.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scipy.special import logit

from facemetric.errors import ConfigError
from facemetric.export.graph import GraphBuilder
from facemetric.metrics.center import Center
from facemetric.metrics.cosine import Cosine
from facemetric.metrics.joint_bayes import JointBayesian
from facemetric.metrics.l2 import L2
from facemetric.metrics.lda_wccn import LDAWCCN
from facemetric.metrics.neural.head import NeuralHead
from facemetric.metrics.plda import PLDA
from facemetric.metrics.projection import LinearProjection
from facemetric.normalize.calibrated import Calibrated
from facemetric.normalize.cohort_norm import STD_FLOOR, CohortNorm
from facemetric.normalize.fusion import WeightedFusion

class Converter:
    """Base: a metric whose prepared rows are one tensor, scored by dot product.

    ``precise``: the score graph runs in float64, for scores in the tens or hundreds (PLDA, Joint
    Bayesian), whose float32 rounding would otherwise approach 1e-4.
    """

    precise = False

    def __init__(self, metric: Any) -> None:
        self.metric = metric

    def prepare(self, g: GraphBuilder, x: str) -> Any:
        raise NotImplementedError

    def score(self, g: GraphBuilder, pa: Any, pb: Any) -> str:
        return g.rowwise_dot(pa, pb)

    def matrix(self, g: GraphBuilder, p: Any, rows: np.ndarray) -> str:
        return g.matmul(p, g.const(np.asarray(rows).T))

    def embedding(self, g: GraphBuilder, x: str) -> str:
        if not getattr(self.metric, "is_projection", False):
            raise ConfigError(f"{type(self.metric).__name__} is not a projection metric: it has no descriptor-to-"
                              "descriptor map to export; export its pair score instead (drop --embedding)")
        return self.prepare(g, x)

    def _normalized(self, g: GraphBuilder, x: str) -> str:
        return g.l2_normalize(x) if getattr(self.metric, "normalize", True) else x


class CosineConverter(Converter):
    def prepare(self, g, x):
        return g.l2_normalize(x)


def _neg_sq_score(g: GraphBuilder, pa: str, pb: str) -> str:
    return g.node("Neg", [g.sq_norms(g.sub(pa, pb))])


def _neg_sq_matrix(g: GraphBuilder, p: str, rows: np.ndarray) -> str:
    """``-max(||p||^2 + ||r||^2 - 2 p r^T, 0)`` against constant rows, as ``neg_sq_distances``."""
    rows = np.asarray(rows, dtype=np.float64)
    sq = g.add(g.sq_norms(p, keepdims=True), g.const((rows ** 2).sum(axis=1)[None, :]))
    sq = g.sub(sq, g.mul(g.const(2.0), g.matmul(p, g.const(rows.T))))
    return g.node("Neg", [g.node("Max", [sq, g.const(0.0)])])


class LinearProjectionConverter(Converter):
    """``P(x) = (n(x) - mean_) @ components_.T`` (centring: no matrix; LDA+WCCN: its two stages), then cosine or
    ``-||.||^2``:
    center, pca-whiten, lda, wccn, lda-wccn, kissme and the metric-learn adapters."""

    def _project(self, g, z):
        m = self.metric
        if isinstance(m, Center):
            return g.sub(z, g.const(m.mean_))
        if isinstance(m, LDAWCCN):
            u = g.l2_normalize(g.project(g.sub(z, g.const(m.mean_)), m.lda_components_))
            return g.project(g.sub(u, g.const(m.lda_mean_)), m.wccn_components_)
        return g.project(g.sub(z, g.const(m.mean_)), m.components_)

    def prepare(self, g, x):
        u = self._project(g, self._normalized(g, x))
        return g.l2_normalize(u) if self.metric.dot_product_scores else u

    def score(self, g, pa, pb):
        return super().score(g, pa, pb) if self.metric.dot_product_scores else _neg_sq_score(g, pa, pb)

    def matrix(self, g, p, rows):
        return super().matrix(g, p, rows) if self.metric.dot_product_scores else _neg_sq_matrix(g, p, rows)


class NeuralConverter(Converter):
    def _forward(self, g, x):
        m = self.metric
        xc = g.sub(g.l2_normalize(x), g.const(m.mean_))
        z = g.add(g.project(xc, m.weight_), g.const(m.bias_))
        if hasattr(m, "hidden_weight_"):
            h = g.node("Relu", [g.add(g.project(xc, m.hidden_weight_), g.const(m.hidden_bias_))])
            z = g.add(z, g.add(g.project(h, m.out_weight_), g.const(m.out_bias_)))
        return z

    def prepare(self, g, x):
        return g.l2_normalize(self._forward(g, x))

    def embedding(self, g, x):
        return self._forward(g, x)  # NeuralHead.transform: before the final normalisation


class L2Converter(Converter):
    def prepare(self, g, x):
        return x

    def score(self, g, pa, pb):
        return g.node("Neg", [g.node("Sqrt", [g.sq_norms(g.sub(pa, pb))])])

    def matrix(self, g, p, rows):
        return g.node("Neg", [g.node("Sqrt", [g.node("Neg", [_neg_sq_matrix(g, p, rows)])])])


class TwoCovarianceConverter(Converter):
    """PLDA and Joint Bayesian: prepared rows ``(u * sqrt(c), q)``; score ``scale (qa + qb + <ua, ub>) + offset``."""

    precise = True

    def __init__(self, metric):
        super().__init__(metric)
        plda = isinstance(metric, PLDA)
        self.scale = 0.5 if plda else 1.0
        self.offset = float(metric.offset_) if plda else 0.0

    def prepare(self, g, x):
        m = self.metric
        z = self._normalized(g, x)
        if m.recenter:
            z = g.l2_normalize(g.sub(z, g.const(m.recenter_mean_)))
        u = g.project(g.sub(z, g.const(m.mean_)), m.components_)
        q = g.matmul(g.mul(u, u), g.const(m.quad_[:, None]))  # (N, 1)
        return g.mul(u, g.const(m.cross_sqrt_)), q

    def _affine(self, g, r):
        if self.scale != 1.0:
            r = g.mul(r, g.const(self.scale))
        return g.add(r, g.const(self.offset)) if self.offset else r

    def score(self, g, pa, pb):
        (ua, qa), (ub, qb) = pa, pb
        q = g.reduce_sum(g.add(qa, qb), 1)
        return self._affine(g, g.add(q, g.rowwise_dot(ua, ub)))

    def matrix(self, g, p, rows):
        u, q = p
        rows = np.asarray(rows, dtype=np.float32)
        r = g.add(g.add(q, g.const(rows[:, -1][None, :])), g.matmul(u, g.const(rows[:, :-1].T)))
        return self._affine(g, r)


class CohortConverter(Converter):
    """Z/T/S/AS-norm: the base score standardised by cohort statistics of one or both sides."""

    def __init__(self, metric):
        super().__init__(metric)
        self.base = converter_for(metric.base_)
        self.precise = self.base.precise
        self.top_k = metric.top_k
        self.sides = {"z": "a", "t": "b", "s": "ab"}[metric.kind]

    def prepare(self, g, x):
        p = self.base.prepare(g, x)
        s = self.base.matrix(g, p, self.metric.cohort_)
        if self.top_k is not None and self.top_k < self.metric.cohort_.shape[0]:
            s = g.topk(s, int(self.top_k))
        mean = g.reduce_mean(s, 1, keepdims=True)
        dev = g.sub(s, mean)
        std = g.node("Max", [g.node("Sqrt", [g.reduce_mean(g.mul(dev, dev), 1, keepdims=True)]),
                             g.const(STD_FLOOR)])
        return p, g.reduce_sum(mean, 1), g.reduce_sum(std, 1)

    def score(self, g, pa, pb):
        raw = self.base.score(g, pa[0], pb[0])
        z = {side: g.div(g.sub(raw, p[1]), p[2]) for side, p in (("a", pa), ("b", pb)) if side in self.sides}
        if len(z) == 1:
            return next(iter(z.values()))
        return g.mul(g.add(z["a"], z["b"]), g.const(0.5))


class CalibratedConverter(Converter):
    def __init__(self, metric):
        super().__init__(metric)
        self.base = converter_for(metric.base_)
        self.precise = self.base.precise

    def prepare(self, g, x):
        return self.base.prepare(g, x)

    def score(self, g, pa, pb):
        m = self.metric
        raw = self.base.score(g, pa, pb)
        return g.add(g.mul(raw, g.const(m.slope_)), g.const(m.offset_ - logit(m.train_prior_)))


class FusionConverter(Converter):
    def __init__(self, metric):
        super().__init__(metric)
        self.members = [converter_for(member) for member in metric.members_]
        self.precise = any(c.precise for c in self.members)

    def prepare(self, g, x):
        return [c.prepare(g, x) for c in self.members]

    def score(self, g, pa, pb):
        m = self.metric
        total = None
        for j, c in enumerate(self.members):
            z = g.mul(g.sub(c.score(g, pa[j], pb[j]), g.const(m.score_mean_[j])),
                      g.const(m.weights_[j] / m.score_scale_[j]))
            total = z if total is None else g.add(total, z)
        return g.add(total, g.const(m.intercept_))


CONVERTERS: dict[type, type[Converter]] = {
    Cosine: CosineConverter, LinearProjection: LinearProjectionConverter, NeuralHead: NeuralConverter,
    L2: L2Converter, PLDA: TwoCovarianceConverter, JointBayesian: TwoCovarianceConverter,
    CohortNorm: CohortConverter, Calibrated: CalibratedConverter, WeightedFusion: FusionConverter,
}


def converter_for(metric: Any) -> Converter:
    """The converter of a fitted metric; transductive and unknown methods are refused with the reason."""
    if getattr(metric, "transductive", False):
        raise ConfigError(
            f"{type(metric).__name__} is transductive: its scores depend on every test descriptor at once (it adapts "
            "to the test set), so a graph that scores one pair at a time cannot reproduce them; export an inductive "
            "method"
        )
    for cls in type(metric).__mro__:
        if cls in CONVERTERS:
            return CONVERTERS[cls](metric)
    raise ConfigError(f"there is no ONNX converter for {type(metric).__name__}; exportable methods: "
                      f"{', '.join(sorted(c.__name__ for c in CONVERTERS))}")
