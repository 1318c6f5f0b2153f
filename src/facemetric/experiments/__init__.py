"""Experiments: fit a metric and score a protocol, in one driver; benchmark grids of methods.

The driver (:mod:`facemetric.experiments.driver`) has three modes over one scoring loop:

* ``identity_disjoint_kfold(make_metric, descriptors, protocol, *, method="metric", on_fold=None)
  -> ProtocolScores``: fold ``k`` is scored by a metric fitted on the identities absent from it,
  whose own scores of the other folds' pairs choose fold ``k``'s accuracy threshold
  (``own_threshold``; docs/protocols.md, "One k-fold rule");
* ``train_test_scores(make_metric, train, test, protocol, *, method="metric") -> ProtocolScores``:
  fit once on ``train``, score all of ``protocol`` on ``test`` (``IdentityOverlapWarning`` on overlap);
* fitted model: ``fit_metric(train, spec, flip="auto") -> PairMetric`` (records
  ``training_identities_``; save it with :func:`facemetric.metrics.persist.save_model`), then
  ``score_with_model(metric, descriptors, protocol, flip=None) -> scores``.

All three score through ``score_protocol(metric, descriptors, protocol, *, chunk_size=SCORING_CHUNK,
all_rows=False)`` / ``score_index_pairs(metric, X, ia, ib, *, chunk_size)``: the metric sees only the
rows the pairs use (``all_rows=True``, used by ``evaluate_protocol``, prepares every row of the set).
``make_metric`` is a zero-argument factory of fresh, unfitted metrics (``MethodSpec.factory()``).
Helpers: ``make_method(name, model_dir=None)``, ``learns_something(metric)``,
``resolve_flip(flip, descriptors)``, ``model_flip(metric)``, ``fold_training_rows(identities, rows)``.

On top of the driver:

* :func:`~facemetric.experiments.evaluate.evaluate_protocol` (``facemetric evaluate``): one method,
  fitted outside the protocol's identities or loaded, scored and evaluated (``EvaluationRun``);
* :func:`~facemetric.experiments.benchmark.run_benchmark` (``facemetric benchmark``): a grid of
  :class:`~facemetric.experiments.specs.MethodSpec` in k-fold or train/test mode, with cached
  scores (:mod:`~facemetric.experiments.score_cache`), the change against cosine and tables
  (:mod:`~facemetric.experiments.report`).

Every result is a :class:`~facemetric.experiments.scores.ProtocolScores` (scores in the protocol's
pair order, labels, folds, mode, timings, per-fold AUC, in k-fold each fold's own threshold).
"""

from facemetric.experiments.benchmark import BenchmarkRun, default_specs, run_benchmark, write_benchmark
from facemetric.experiments.driver import (
    SCORING_CHUNK,
    IdentityOverlapWarning,
    fit_metric,
    identity_disjoint_kfold,
    learns_something,
    make_method,
    model_flip,
    resolve_flip,
    score_index_pairs,
    score_protocol,
    score_with_model,
    train_test_scores,
)
from facemetric.experiments.evaluate import EvaluationRun, evaluate_protocol, training_split
from facemetric.experiments.scores import ProtocolScores
from facemetric.experiments.specs import MethodSpec, parse_method_spec, parse_methods

__all__ = [
    "SCORING_CHUNK", "BenchmarkRun", "EvaluationRun", "IdentityOverlapWarning", "MethodSpec", "ProtocolScores",
    "default_specs", "evaluate_protocol", "fit_metric", "identity_disjoint_kfold", "learns_something",
    "make_method", "model_flip", "parse_method_spec", "parse_methods", "resolve_flip", "run_benchmark",
    "score_index_pairs", "score_protocol", "score_with_model", "train_test_scores", "training_split",
    "write_benchmark",
]
