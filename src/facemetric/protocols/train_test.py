"""Train/test mode, as in the hackathon: fit on one descriptor set, score a protocol on another."""

from __future__ import annotations

import time
import warnings
from typing import TYPE_CHECKING, Callable

import numpy as np

from facemetric.errors import InputError
from facemetric.protocols.identities import identities_of, with_identities
from facemetric.protocols.kfold import score_rows
from facemetric.protocols.scores import ProtocolScores, per_fold_auc
from facemetric.types import DescriptorSet, PairProtocol

if TYPE_CHECKING:
    from facemetric.metrics.base import PairMetric


class IdentityOverlapWarning(UserWarning):
    """Identities of the test pairs also appear in the training descriptors: results are optimistic."""


def overlapping_identities(train: DescriptorSet, test: DescriptorSet, protocol: PairProtocol) -> np.ndarray:
    """Identities of the protocol's images that also appear in ``train`` (empty when test has no identities)."""
    try:
        test_ids = identities_of(test, "test descriptors")
    except InputError:
        return np.array([], dtype=str)
    ia, ib = protocol.resolve(test)
    used = np.unique(test_ids[np.concatenate([ia, ib])])
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
    ia, ib = protocol.resolve(test)
    metric = make_metric()
    t0 = time.perf_counter()
    metric.fit_descriptors(train)
    t1 = time.perf_counter()
    metric.check_descriptors(test)
    scores = score_rows(metric, test.X, ia, ib)
    t2 = time.perf_counter()
    return ProtocolScores(
        method=method, scores=scores, labels=protocol.labels, folds=protocol.folds, mode="train-test",
        transductive=bool(getattr(metric, "transductive", False)), fit_seconds=t1 - t0, score_seconds=t2 - t1,
        n_train=[len(train)], fold_auc=per_fold_auc(protocol.labels, scores, protocol.folds),
    )
