"""The one driver that fits a metric and scores a protocol, in three modes over one scoring loop.

* **k-fold** (:func:`identity_disjoint_kfold`): fold ``k`` of the protocol is scored by a metric
  fitted on every descriptor whose identity appears in none of fold ``k``'s pairs; the same metric
  scores the pairs of the other (training) folds, and fold ``k``'s accuracy threshold is chosen on
  those scores (:func:`own_threshold`), so no fold's figure mixes two models' score scales;
* **train/test** (:func:`train_test_scores`): fit once on one descriptor set, score the whole
  protocol on another (warns when their identities overlap);
* **fitted model** (:func:`fit_metric`, then :func:`score_with_model`): fit and save, later score.

Identities come from the labels, or from the image folder where labels are empty
(:func:`facemetric.identity.identities_of`). Every mode scores through
:func:`score_index_pairs`: the metric sees only the descriptors of the images the pairs use, so a
transductive method adapts to the scored images and never to other data. The chunked loop over
pairs itself is :meth:`facemetric.metrics.base.PairMetric.score_prepared_pairs`, which the Dask
path (:mod:`facemetric.scale.score`) runs on its workers.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from facemetric.enrolment import DEFAULT_MISSING, find_missing, reject_scores, scorable_pairs
from facemetric.errors import ConfigError, ProtocolError
from facemetric.experiments.scores import ProtocolScores, per_fold_auc
from facemetric.identity import check_labels_agree, identities_of, image_identities, with_identities
from facemetric.types import FLIP_MODES, DescriptorSet, PairProtocol

if TYPE_CHECKING:
    from facemetric.experiments.specs import MethodSpec
    from facemetric.metrics.base import PairMetric

SCORING_CHUNK = 1 << 14  # pairs per chunk: 2 x 16k x 512 float32 = 64 MiB of gathered rows
MIN_TRAIN_IDENTITIES = 2
FLIP_CHOICES = ("auto",) + FLIP_MODES


# --- the scoring loop ------------------------------------------------------------------------
def score_index_pairs(
    metric: Any, X: np.ndarray, ia: np.ndarray, ib: np.ndarray, *, chunk_size: int = SCORING_CHUNK,
    yaw: np.ndarray | None = None,
) -> np.ndarray:
    """Scores (float64) of the pairs ``(X[ia], X[ib])``, showing the metric only the rows they use.

    ``yaw`` (one per row of ``X``, NaN where unknown) goes to metrics whose scores use the pose
    (``uses_pose``), restricted to the same rows. No metric is ever shown labels or image ids.
    """
    rows, ja, jb = pair_rows(ia, ib)
    if yaw is not None and getattr(metric, "uses_pose", False):
        return metric.score_pairs(X[rows], ja, jb, chunk_size=chunk_size, yaw=np.asarray(yaw)[rows])
    return metric.score_pairs(X[rows], ja, jb, chunk_size=chunk_size)


def pair_rows(ia: np.ndarray, ib: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(used, ja, jb)``: the rows the pairs use, once each (sorted), and the pairs as indices into them."""
    rows, inverse = np.unique(np.concatenate([ia, ib]), return_inverse=True)
    local = inverse.reshape(2, -1)
    return rows, local[0], local[1]


def restrict_to_pairs(X: np.ndarray, ia: np.ndarray, ib: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(X[used], ja, jb)``: the rows the pairs use, once each, and the pairs as indices into them."""
    rows, ja, jb = pair_rows(ia, ib)
    return X[rows], ja, jb


def score_protocol(
    metric: Any, descriptors: DescriptorSet, protocol: PairProtocol, *, chunk_size: int = SCORING_CHUNK,
    all_rows: bool = False,
) -> np.ndarray:
    """Score every pair of ``protocol`` (higher = same person), float64 (M,), in the protocol's order.

    The metric sees only the descriptors of the protocol's images, unless ``all_rows``: then it
    prepares every descriptor of the set, as ``facemetric evaluate`` has always done (a
    transductive method then adapts to the whole set, and BLAS may round a few scores
    differently in the last bit). Refuses descriptors of another backbone or dimension than the
    metric was fitted on.
    """
    ia, ib = protocol.resolve(descriptors)
    if hasattr(metric, "check_descriptors"):
        metric.check_descriptors(descriptors)
    if all_rows:
        posed = descriptors.yaw is not None and getattr(metric, "uses_pose", False)
        return metric.score_pairs(descriptors.X, ia, ib, chunk_size=chunk_size,
                                  **({"yaw": descriptors.yaw} if posed else {}))
    return score_index_pairs(metric, descriptors.X, ia, ib, chunk_size=chunk_size, yaw=descriptors.yaw)


# --- building and fitting metrics --------------------------------------------------------------
def make_method(method: str, model_dir: str | Path | None = None) -> Any:
    """A fresh metric by registered name, or the model saved in ``model_dir`` (then ``method`` is unused)."""
    if model_dir is not None:
        from facemetric.metrics.persist import load_model

        return load_model(model_dir)
    from facemetric.registry import METHODS

    if method not in METHODS:
        raise ConfigError(f"unknown method {method!r}; choose one of: {', '.join(METHODS)}")
    return METHODS[method]()


def accuracy_folds(folds: np.ndarray | None) -> np.ndarray | None:
    """The folds of k-fold accuracy: a protocol's own, or None (stratified folds drawn with the seed)
    when it has fewer than two, e.g. ``pairs.txt`` cut to its first fold (header ``1 300``)."""
    return None if folds is None or np.unique(folds).size < 2 else folds


def single_fold_note(protocol: PairProtocol, n_folds: int, seed: int) -> str | None:
    """The note a report carries when a one-fold protocol was evaluated on drawn folds."""
    if protocol.folds is None or accuracy_folds(protocol.folds) is not None:
        return None
    return (f"{protocol.name} has a single fold, so k-fold accuracy uses {n_folds} stratified folds drawn "
            f"with seed {seed} instead (each fold's threshold chosen on the others)")


def learns_something(metric: Any) -> bool:
    """True when the metric's class overrides ``_fit`` (cosine and L2 learn nothing)."""
    from facemetric.metrics.base import PairMetric

    return type(metric)._fit is not PairMetric._fit


def resolve_flip(flip: str, descriptors: DescriptorSet) -> str:
    """``auto`` -> "sum" when the set has flipped descriptors, else "none"."""
    if flip not in FLIP_CHOICES:
        raise ConfigError(f"The '--flip' option must be one of {', '.join(FLIP_CHOICES)}. Got {flip!r} instead.")
    if flip == "auto":
        return "sum" if descriptors.X_flip is not None else "none"
    return flip


def model_flip(metric: Any) -> str:
    """The flip fusion a model was fitted with, or "auto" when it did not record one."""
    prov = getattr(metric, "provenance_", None) or {}
    flip = prov.get("flip_fusion")
    return flip if flip in FLIP_MODES else "auto"


def _fit(metric: PairMetric, train: DescriptorSet) -> float:
    """Fit on a descriptor set whose labels are identities; return the seconds it took."""
    t0 = time.perf_counter()
    metric.fit_descriptors(train)
    return time.perf_counter() - t0


# --- fitted-model mode ---------------------------------------------------------------------
def fit_metric(train: DescriptorSet, spec: MethodSpec, flip: str = "auto") -> PairMetric:
    """Fuse the flips, take identities from labels or folders, fit ``spec`` on ``train``.

    The fitted metric records ``training_identities_`` (saved with the model), so that
    ``facemetric evaluate --model`` can flag test identities seen in training.
    """
    fused = with_identities(train.fused(resolve_flip(flip, train)), "training descriptors")
    metric = spec.factory()()
    _fit(metric, fused)
    metric.training_identities_ = np.unique(fused.labels)
    return metric


def score_with_model(metric: PairMetric, descriptors: DescriptorSet, protocol: PairProtocol,
                     flip: str | None = None, *, missing: str = DEFAULT_MISSING) -> np.ndarray:
    """Scores of every pair of ``protocol``; flips fused as at training time unless ``flip`` is given.

    A pair with a side that has no descriptor is scored below every real score under
    ``missing="reject"``, is NaN (no score) under "drop", and raises under "error".
    """
    flip = model_flip(metric) if flip is None else flip
    fused = descriptors.fused(resolve_flip(flip, descriptors))
    absent = find_missing(protocol, fused, missing)
    scores = score_protocol(metric, fused, scorable_pairs(protocol, absent))
    if missing == "drop" and absent.n_pairs:
        out = np.full(len(protocol), np.nan)
        out[~absent.pairs] = scores
        return out
    return reject_scores(scores, absent)


# --- train/test mode -----------------------------------------------------------------------
class IdentityOverlapWarning(UserWarning):
    """Identities of the test pairs also appear in the training descriptors: results are optimistic."""


def overlapping_identities(train: DescriptorSet, test: DescriptorSet, protocol: PairProtocol) -> np.ndarray:
    """Identities of the protocol's images (as the protocol states them, else from ``test``) that also
    appear in ``train``."""
    per_image = image_identities(protocol, test)
    used = np.unique(per_image[np.unique(protocol.pairs)])
    used = used[used != ""]
    return np.intersect1d(used, np.unique(identities_of(train, "training descriptors")))


def warn_identity_overlap(train: DescriptorSet, test: DescriptorSet, protocol: PairProtocol) -> int:
    """Warn (IdentityOverlapWarning) when training and test identities overlap; return the overlap size."""
    common = overlapping_identities(train, test, protocol)
    if common.size:
        examples = ", ".join(repr(str(c)) for c in common[:3])
        warnings.warn(
            f"{common.size} identities of the {protocol.name} pairs are also in the training descriptors "
            f"(e.g. {examples}); the result is optimistic. Train on other identities, or drop --train to use "
            "identity-disjoint k-fold",
            IdentityOverlapWarning,
            stacklevel=2,
        )
    return int(common.size)


def train_test_scores(
    make_metric: Callable[[], PairMetric],
    train: DescriptorSet,
    test: DescriptorSet,
    protocol: PairProtocol,
    *,
    method: str = "metric",
) -> ProtocolScores:
    """Fit once on ``train`` (identities from labels or folders), score all of ``protocol`` on ``test``."""
    train = with_identities(train, "training descriptors")
    warn_identity_overlap(train, test, protocol)
    protocol.resolve(test)
    metric = make_metric()
    fit_seconds = _fit(metric, train)
    t0 = time.perf_counter()
    scores = score_protocol(metric, test, protocol)
    return ProtocolScores(
        method=method, scores=scores, labels=protocol.labels, folds=protocol.folds, mode="train-test",
        transductive=bool(getattr(metric, "transductive", False)), fit_seconds=fit_seconds,
        score_seconds=time.perf_counter() - t0, n_train=[len(train)],
        fold_auc=per_fold_auc(protocol.labels, scores, protocol.folds),
    )


# --- k-fold mode ---------------------------------------------------------------------------
def fold_training_rows(identities: np.ndarray, test_rows: np.ndarray) -> np.ndarray:
    """Boolean mask of rows whose identity is not among the identities of ``test_rows``."""
    return ~np.isin(identities, np.unique(identities[test_rows]))


def identity_disjoint_kfold(
    make_metric: Callable[[], PairMetric],
    descriptors: DescriptorSet,
    protocol: PairProtocol,
    *,
    method: str = "metric",
    on_fold: Callable[[int], None] | None = None,
) -> ProtocolScores:
    """Scores of every pair of ``protocol``, fold by fold, with per-fold fitting.

    ``make_metric`` returns a fresh, unfitted metric for each fold. ``on_fold`` is called
    after each fold (for progress bars).
    """
    if protocol.folds is None:
        raise ProtocolError(f"{protocol.name}: k-fold evaluation needs a fold per pair, but the protocol has no "
                            "folds; give training descriptors (--train) instead")
    descriptors = with_identities(descriptors)
    check_labels_agree(protocol, descriptors)
    identities = descriptors.labels
    ia, ib = protocol.resolve(descriptors)
    scores = np.empty(len(protocol), dtype=np.float64)
    fit_seconds = score_seconds = 0.0
    n_train: list[int] = []
    transductive = False
    fold_ids = np.unique(protocol.folds)
    thresholds = np.full(fold_ids.size, np.nan)
    for k, f in enumerate(fold_ids):
        in_fold = protocol.folds == f
        test_rows = np.unique(np.concatenate([ia[in_fold], ib[in_fold]]))
        train_mask = fold_training_rows(identities, test_rows)
        n_ids = np.unique(identities[train_mask]).size
        if n_ids < MIN_TRAIN_IDENTITIES:
            total = np.unique(identities).size
            why = (f"the descriptor set has only {total} identit{'y' if total == 1 else 'ies'} "
                   f"({', '.join(repr(str(i)) for i in np.unique(identities)[:2])}): check its labels "
                   "(facemetric info; extract --label-depth)" if total < 2 * MIN_TRAIN_IDENTITIES else
                   "k-fold training needs other identities in the descriptor set (or use --train)")
            raise ProtocolError(
                f"{protocol.name}: fold {f} leaves {n_ids} training identities once its own identities are "
                f"removed; {why}"
            )
        metric = make_metric()
        transductive = bool(getattr(metric, "transductive", False))
        fit_seconds += _fit(metric, descriptors.subset(np.flatnonzero(train_mask)))
        t0 = time.perf_counter()
        scores[in_fold] = score_index_pairs(metric, descriptors.X, ia[in_fold], ib[in_fold], yaw=descriptors.yaw)
        thresholds[k] = own_threshold(metric, descriptors.X, ia, ib, protocol.labels, ~in_fold, yaw=descriptors.yaw)
        score_seconds += time.perf_counter() - t0
        n_train.append(int(train_mask.sum()))
        if on_fold is not None:
            on_fold(int(f))
    return ProtocolScores(
        method=method, scores=scores, labels=protocol.labels, folds=protocol.folds, mode="kfold",
        transductive=transductive, fit_seconds=fit_seconds, score_seconds=score_seconds, n_train=n_train,
        fold_auc=per_fold_auc(protocol.labels, scores, protocol.folds),
        threshold_folds=fold_ids, fold_thresholds=thresholds,
    )


def own_threshold(metric: Any, X: np.ndarray, ia: np.ndarray, ib: np.ndarray, labels: np.ndarray | None,
                  training_pairs: np.ndarray, yaw: np.ndarray | None = None) -> float:
    """The accuracy threshold of one fold's model, chosen on its own scores of its training folds' pairs
    (``training_pairs``, a mask): never on scores from other folds' models (docs/protocols.md,
    "One k-fold rule"). NaN without labels or when those pairs lack a class."""
    if labels is None:
        return float("nan")
    y = labels[training_pairs]
    if np.unique(y).size < 2:
        return float("nan")
    from facemetric.verify import best_threshold

    return best_threshold(y, score_index_pairs(metric, X, ia[training_pairs], ib[training_pairs], yaw=yaw))
