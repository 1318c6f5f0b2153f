"""Pseudo-identity self-training (transductive): find identities among the unlabelled test photos, refit.

A metric fitted on a mostly frontal training set learns little about large pose changes. The
test set itself holds them: several photos per person, some frontal, some turned. Without
reading a label, this method

1. scores every pair of test photos with the wrapped metric (fitted on the training set);
2. **clusters the frontal-looking photos** (``|yaw| <= frontal_yaw``; every photo when the test
   set has no pose) by average linkage, merging two clusters while the mean score between them
   is above the score that ``link_far`` of the *training* impostor pairs reach (frontal photos
   of one person match reliably, so these clusters are nearly pure);
3. **attaches each other photo** to the cluster with the highest mean score, only where the
   match is clear: that score is above the training impostors' ``attach_far`` quantile *and*
   beats the second-best cluster by ``margin`` standard deviations of that photo's scores over
   the clusters (a ratio test in the photo's own units: a turned photo scores lower against
   everyone, so an absolute margin would leave it out);
4. adds the clusters with two photos or more to the training identities as extra identities,
   each ``pseudo_copies`` times (as distinct identities, so that the test domain weighs as much
   as the much larger training set), and **refits** the metric, so that its within-identity model now holds the test set's own
   frontal-to-turned variation; steps 1-4 run ``n_rounds`` times, each with the last refit;
5. scores the pairs with the final metric, optionally re-ranked by k-reciprocal neighbours
   (``rerank``) among the test photos.

Only the test descriptors and their yaw are used: never labels or the pair list (the pairs are
scored after the pseudo-identities are fixed, from all distinct test photos of the protocol).
The thresholds come from the training set, so nothing is tuned on the test pairs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from facemetric.errors import ConfigError, InputError
from facemetric.constraints import Interval
from facemetric.metrics.base import PairMetric
from facemetric.normalize.rerank import k_reciprocal_distance
from facemetric.normalize.transductive import TransductiveMetric
from facemetric.normalize.wrapped import build_metric

PSEUDO_PREFIX = "pseudo-identity:"


def average_linkage_clusters(S: np.ndarray, threshold: float) -> np.ndarray:
    """Cluster labels 0..K-1 of the rows of the symmetric score matrix ``S`` (n, n).

    Average linkage: clusters merge, closest first, while the mean score between their members
    is at least ``threshold``.
    """
    n = S.shape[0]
    if n < 2:
        return np.zeros(n, dtype=np.int64)
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    top = float(S.max())
    D = top - np.asarray(S, dtype=np.float64)
    D = 0.5 * (D + D.T)
    np.fill_diagonal(D, 0.0)
    tree = linkage(squareform(D, checks=False), method="average")
    labels = fcluster(tree, t=top - threshold, criterion="distance")
    return np.unique(labels, return_inverse=True)[1].astype(np.int64)


def attach_to_clusters(S: np.ndarray, clusters: np.ndarray, threshold: float, margin: float) -> np.ndarray:
    """For each row of ``S`` (m, n: scores against n clustered photos), its cluster or -1.

    A row joins the cluster with the highest mean score when that mean is at least
    ``threshold`` and exceeds the second-best cluster's mean by at least ``margin`` times the
    standard deviation of that row's cluster means (a ratio test in the row's own units, so a
    turned photo whose scores are all lower is judged by its own spread; with one cluster only
    the threshold applies).
    """
    m = S.shape[0]
    if m == 0 or clusters.size == 0:
        return np.full(m, -1, dtype=np.int64)
    k = int(clusters.max()) + 1
    onehot = np.zeros((clusters.size, k))
    onehot[np.arange(clusters.size), clusters] = 1.0
    means = (S @ onehot) / onehot.sum(axis=0)
    order = np.argsort(-means, axis=1)
    best = means[np.arange(m), order[:, 0]]
    second = means[np.arange(m), order[:, 1]] if k > 1 else np.full(m, -np.inf)
    spread = means.std(axis=1) if k > 1 else np.zeros(m)
    ok = (best >= threshold) & (best - second >= margin * spread)
    return np.where(ok, order[:, 0], -1).astype(np.int64)


class PseudoIdentity(TransductiveMetric):
    """Self-training on pseudo-identities found among the test photos; see the module docstring.

    ``metric``: the wrapped metric spec; it must learn from identity labels (default ``plda``).
    ``frontal_yaw``: photos with ``|yaw|`` at most this (degrees) are clustered, the others
    attached; ``None`` clusters every photo. ``link_far``/``attach_far``: training impostor
    false-accept rates that set the linkage and attachment thresholds. ``margin``: lead of the
    best cluster over the second, in standard deviations of the photo's cluster scores.
    ``pseudo_copies``: how many times each pseudo-identity enters the refit. ``n_rounds``:
    cluster-and-refit rounds. ``rerank``: k-reciprocal re-ranking of the final
    scores (``k1``, ``k2``, ``original_weight`` as in ``k-reciprocal``). ``n_calibration``
    random training impostor pairs set the thresholds; ``max_images`` bounds the test set.
    """

    uses_pose = True
    _parameter_constraints = {
        "frontal_yaw": [None, Interval("float", 0)],
        "link_far": [Interval("float", 0, 1, closed="neither")],
        "attach_far": [Interval("float", 0, 1, closed="neither")],
        "margin": [Interval("float", 0)],
        "original_weight": [Interval("float", 0, 1)],
        "n_rounds": [Interval("int", 1)],
        "pseudo_copies": [Interval("int", 1)],
        "k1": [Interval("int", 1)],
        "k2": [Interval("int", 1)],
        "n_calibration": [Interval("int", 100)],
        "max_images": [Interval("int", 2)],
        "rerank": [bool],
    }

    def __init__(self, metric: Any = "plda", *, frontal_yaw: float | None = 20.0, link_far: float = 1e-3,
                 attach_far: float = 1e-2, margin: float = 0.25, pseudo_copies: int = 10, n_rounds: int = 1,
                 rerank: bool = False,
                 k1: int = 10, k2: int = 3, original_weight: float = 0.3, n_calibration: int = 20000,
                 max_images: int = 12000, seed: int = 0) -> None:
        self.metric = metric
        self.frontal_yaw = frontal_yaw
        self.link_far = link_far
        self.attach_far = attach_far
        self.margin = margin
        self.pseudo_copies = pseudo_copies
        self.n_rounds = n_rounds
        self.rerank = rerank
        self.k1 = k1
        self.k2 = k2
        self.original_weight = original_weight
        self.n_calibration = n_calibration
        self.max_images = max_images
        self.seed = seed

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        base = build_metric(self.metric)
        if base.transductive or not base.needs_labels:
            raise ConfigError(f"The 'metric' parameter of PseudoIdentity must be an inductive metric that learns "
                              f"from identities (e.g. plda, lda, wccn). Got {self.metric!r} instead.")
        if y is None:
            raise InputError("PseudoIdentity needs identity labels for its training descriptors")
        self.base_ = base.fit(X, y)
        self.train_X_ = X
        self.train_labels_ = np.asarray(y).astype(str)

    def thresholds(self, metric: PairMetric) -> tuple[float, float]:
        """(linkage threshold, attachment threshold) from training impostor pairs under ``metric``."""
        rng = np.random.default_rng(self.seed)
        n = self.train_X_.shape[0]
        ia = rng.integers(0, n, size=2 * self.n_calibration)
        ib = rng.integers(0, n, size=2 * self.n_calibration)
        keep = np.flatnonzero(self.train_labels_[ia] != self.train_labels_[ib])[: self.n_calibration]
        if keep.size < 100:
            raise InputError("PseudoIdentity found fewer than 100 training impostor pairs; give more identities")
        scores = metric.score_pairs(self.train_X_, ia[keep], ib[keep])
        return float(np.quantile(scores, 1.0 - self.link_far)), float(np.quantile(scores, 1.0 - self.attach_far))

    def pseudo_identities(self, metric: PairMetric, T: np.ndarray, yaw: np.ndarray | None) -> np.ndarray:
        """A pseudo-identity per row of ``T`` (0..K-1), or -1 for a photo left out; only groups of 2+ are kept."""
        if T.shape[0] > self.max_images:
            raise InputError(f"PseudoIdentity got {T.shape[0]} distinct test descriptors, more than "
                             f"max_images={self.max_images}; score the protocol fold by fold or raise max_images")
        t_link, t_attach = self.thresholds(metric)
        Z = metric.prepare(T)
        S = metric.score_matrix(Z, Z)
        if yaw is None or self.frontal_yaw is None:
            anchor = np.ones(T.shape[0], dtype=bool)
        else:
            anchor = np.abs(yaw) <= self.frontal_yaw  # NaN (unknown pose) is never an anchor
        a_rows, o_rows = np.flatnonzero(anchor), np.flatnonzero(~anchor)
        groups = np.full(T.shape[0], -1, dtype=np.int64)
        if a_rows.size == 0:
            return groups
        groups[a_rows] = average_linkage_clusters(S[np.ix_(a_rows, a_rows)], t_link)
        groups[o_rows] = attach_to_clusters(S[np.ix_(o_rows, a_rows)], groups[a_rows], t_attach, self.margin)
        sizes = np.bincount(groups[groups >= 0], minlength=int(groups.max()) + 1)
        groups[(groups >= 0) & (sizes[np.maximum(groups, 0)] < 2)] = -1
        return np.unique(groups, return_inverse=True)[1].astype(np.int64) - int((groups < 0).any())

    def refit(self, T: np.ndarray, yaw: np.ndarray | None) -> tuple[PairMetric, list[dict[str, int]]]:
        """The metric after ``n_rounds`` of clustering and refitting, and what each round found."""
        metric = self.base_
        rounds = []
        for _ in range(int(self.n_rounds)):
            groups = self.pseudo_identities(metric, T, yaw)
            used = groups >= 0
            rounds.append({"pseudo_identities": int(groups.max()) + 1, "photos": int(used.sum())})
            if not used.any():
                break
            copies = int(self.pseudo_copies)
            names = [np.char.add(f"{PSEUDO_PREFIX}{c}:", groups[used].astype(str)) for c in range(copies)]
            metric = build_metric(self.metric).fit(np.vstack([self.train_X_] + [T[used]] * copies),
                                                   np.concatenate([self.train_labels_] + names))
        return metric, rounds

    def score_test(self, T: np.ndarray, ja: np.ndarray, jb: np.ndarray, yaw: np.ndarray | None = None) -> np.ndarray:
        metric, _ = self.refit(T, yaw)
        Z = metric.prepare(T)
        if not self.rerank:
            return metric.score_prepared(Z[ja], Z[jb])
        S = metric.score_matrix(Z, Z).astype(np.float32)
        return -k_reciprocal_distance(S, ja, jb, k1=int(self.k1), k2=int(self.k2),
                                      original_weight=float(self.original_weight))
