"""Identity-disjoint k-fold: each fold is scored by a metric fitted only on identities absent from it.

For fold ``k`` of a protocol, the training set is every descriptor whose identity appears in
none of fold ``k``'s pairs (identities from the labels, or the image folder). The metric is
fitted on it and scores fold ``k``'s pairs, seeing only the descriptors of that fold's images
at scoring time (so a transductive method adapts to the fold, never to other test data).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable

import numpy as np

from facemetric.errors import ProtocolError
from facemetric.protocols.identities import with_identities
from facemetric.protocols.scores import ProtocolScores, per_fold_auc
from facemetric.types import DescriptorSet, PairProtocol

if TYPE_CHECKING:
    from facemetric.metrics.base import PairMetric

MIN_TRAIN_IDENTITIES = 2


def fold_training_rows(identities: np.ndarray, test_rows: np.ndarray) -> np.ndarray:
    """Boolean mask of rows whose identity is not among the identities of ``test_rows``."""
    return ~np.isin(identities, np.unique(identities[test_rows]))


def score_rows(metric: PairMetric, X: np.ndarray, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """Score pairs ``(X[ia], X[ib])`` showing the metric only the rows the pairs use."""
    rows, inverse = np.unique(np.concatenate([ia, ib]), return_inverse=True)
    local = inverse.reshape(2, -1)
    return metric.score_pairs(X[rows], local[0], local[1])


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
    identities = descriptors.labels
    ia, ib = protocol.resolve(descriptors)
    scores = np.empty(len(protocol), dtype=np.float64)
    fit_seconds = score_seconds = 0.0
    n_train: list[int] = []
    transductive = False
    for f in np.unique(protocol.folds):
        in_fold = protocol.folds == f
        test_rows = np.unique(np.concatenate([ia[in_fold], ib[in_fold]]))
        train_mask = fold_training_rows(identities, test_rows)
        n_ids = np.unique(identities[train_mask]).size
        if n_ids < MIN_TRAIN_IDENTITIES:
            raise ProtocolError(
                f"{protocol.name}: fold {f} leaves {n_ids} training identities once its own identities are "
                "removed; k-fold training needs other identities in the descriptor set (or use --train)"
            )
        metric = make_metric()
        transductive = bool(getattr(metric, "transductive", False))
        t0 = time.perf_counter()
        metric.fit_descriptors(descriptors.subset(np.flatnonzero(train_mask)))
        t1 = time.perf_counter()
        scores[in_fold] = score_rows(metric, descriptors.X, ia[in_fold], ib[in_fold])
        t2 = time.perf_counter()
        fit_seconds += t1 - t0
        score_seconds += t2 - t1
        n_train.append(int(train_mask.sum()))
        if on_fold is not None:
            on_fold(int(f))
    return ProtocolScores(
        method=method, scores=scores, labels=protocol.labels, folds=protocol.folds, mode="kfold",
        transductive=transductive, fit_seconds=fit_seconds, score_seconds=score_seconds, n_train=n_train,
        fold_auc=per_fold_auc(protocol.labels, scores, protocol.folds),
    )
