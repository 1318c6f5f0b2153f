"""Identity-disjoint k-fold and train/test mode, against brute-force loops and sklearn's AUC."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from facemetric.errors import ProtocolError
from facemetric.metrics.base import PairMetric
from facemetric.metrics.cosine import Cosine
from facemetric.experiments.driver import identity_disjoint_kfold
from facemetric.experiments.driver import IdentityOverlapWarning, train_test_scores
from facemetric.types import PairProtocol


class CenterOnTrain(PairMetric):
    """Cosine after centring on the training mean; remembers the identities it was fitted on."""

    def _fit(self, X, y):
        self.mean_ = X.mean(axis=0)
        self.identities_ = np.unique(y)

    def prepare(self, X):
        Z = X - self.mean_
        return Z / np.linalg.norm(Z, axis=1, keepdims=True)

    def score_prepared(self, Za, Zb):
        return np.einsum("ij,ij->i", Za, Zb)


class SeesTestSet(Cosine):
    """A transductive stand-in: records the descriptors it is shown at scoring time."""

    transductive = True
    seen: list = []

    def score_pairs(self, X, ia, ib, **kw):
        SeesTestSet.seen.append(np.asarray(X).copy())
        return super().score_pairs(X, ia, ib, **kw)


def brute_force_kfold(ds, protocol):
    """The expected scores, with explicit loops over folds, pairs and training rows."""
    ident = {i: i.split("/")[0] for i in ds.ids}
    row = {i: k for k, i in enumerate(ds.ids)}
    out = np.zeros(len(protocol))
    for f in sorted(set(protocol.folds.tolist())):
        fold_ids = set()
        for p in range(len(protocol)):
            if protocol.folds[p] == f:
                fold_ids |= {ident[protocol.a[p]], ident[protocol.b[p]]}
        train = [k for k, i in enumerate(ds.ids) if ident[i] not in fold_ids]
        mean = ds.X[train].astype(np.float64).mean(axis=0)
        for p in range(len(protocol)):
            if protocol.folds[p] == f:
                a = ds.X[row[protocol.a[p]]] - mean
                b = ds.X[row[protocol.b[p]]] - mean
                out[p] = a @ b / np.linalg.norm(a) / np.linalg.norm(b)
    return out


def test_matches_brute_force(synthetic):
    ds, protocol = synthetic
    res = identity_disjoint_kfold(CenterOnTrain, ds, protocol, method="center")
    np.testing.assert_allclose(res.scores, brute_force_kfold(ds, protocol), atol=1e-5)
    assert res.mode == "kfold" and not res.transductive
    assert len(res.n_train) == 3
    for f, auc in enumerate(res.fold_auc):
        m = protocol.folds == f
        assert auc == pytest.approx(roc_auc_score(protocol.labels[m], res.scores[m]))


def test_identities_from_folders_when_labels_are_empty(make_ds, make_proto):
    ds = make_ds(labels_as_folders=True)
    protocol = make_proto(ds)
    fitted = []

    class Spy(CenterOnTrain):
        def _fit(self, X, y):
            super()._fit(X, y)
            fitted.append(set(self.identities_.tolist()))

    res = identity_disjoint_kfold(Spy, ds, protocol)
    for f, train_ids in enumerate(fitted):
        m = protocol.folds == f
        fold_ids = {s.split("/")[0] for s in np.r_[protocol.a[m], protocol.b[m]]}
        assert train_ids and not train_ids & fold_ids
        assert "" not in train_ids
    np.testing.assert_allclose(res.scores, brute_force_kfold(ds, protocol), atol=1e-5)


def test_learning_helps_on_anisotropic_noise(make_ds, make_proto):
    """A metric that whitens the nuisance directions must beat cosine here (the test can fail)."""

    class Whiten(CenterOnTrain):
        def _fit(self, X, y):
            super()._fit(X, y)
            names, codes = np.unique(y, return_inverse=True)
            means = np.stack([X[codes == k].mean(0) for k in range(names.size)])
            R = X - means[codes]
            w, V = np.linalg.eigh(R.T @ R / len(R))
            self.P_ = V / np.sqrt(w)

        def prepare(self, X):
            Z = (X - self.mean_) @ self.P_
            return Z / np.linalg.norm(Z, axis=1, keepdims=True)

    ds = make_ds(n_ids=90, nuisance=6.0)
    protocol = make_proto(ds, per_fold=60)
    cos = identity_disjoint_kfold(Cosine, ds, protocol)
    white = identity_disjoint_kfold(Whiten, ds, protocol)
    assert roc_auc_score(protocol.labels, white.scores) > roc_auc_score(protocol.labels, cos.scores) + 0.02


def test_transductive_metric_sees_only_its_fold(synthetic):
    ds, protocol = synthetic
    SeesTestSet.seen = []
    res = identity_disjoint_kfold(SeesTestSet, ds, protocol)
    assert res.transductive
    row = {i: k for k, i in enumerate(ds.ids)}
    # per fold: its own pairs, then (in a call of its own) its training folds' pairs, for its threshold
    assert len(SeesTestSet.seen) == 2 * np.unique(protocol.folds).size
    for f in np.unique(protocol.folds):
        for X, m in zip(SeesTestSet.seen[2 * f:2 * f + 2], (protocol.folds == f, protocol.folds != f)):
            rows = sorted({row[i] for i in np.r_[protocol.a[m], protocol.b[m]]})
            np.testing.assert_array_equal(X, ds.X[rows])


class ShiftedByTraining(CenterOnTrain):
    """Centred cosine plus an offset that depends on the training set: every fold's model scores on
    its own scale, as learned metrics do (a PLDA log-likelihood ratio, a neural head)."""

    def _fit(self, X, y):
        super()._fit(X, y)
        self.offset_ = 10.0 * float(X[:, 0].sum())

    def score_prepared(self, Za, Zb):
        return super().score_prepared(Za, Zb) + self.offset_


def test_each_fold_threshold_is_chosen_by_its_own_model_on_its_training_folds(synthetic):
    from facemetric.verify import best_threshold, kfold_accuracy
    from facemetric.verify.accuracy import kfold_at_thresholds

    ds, protocol = synthetic
    res = identity_disjoint_kfold(CenterOnTrain, ds, protocol)
    shifted = identity_disjoint_kfold(ShiftedByTraining, ds, protocol)
    y, folds = protocol.labels, protocol.folds
    expected = brute_force_kfold(ds, protocol)
    for f, t in res.own_thresholds().items():
        # fold f's model on the other folds' pairs: brute force for the centred cosine
        ident = {i: i.split("/")[0] for i in ds.ids}
        row = {i: k for k, i in enumerate(ds.ids)}
        fold_ids = {ident[x] for x in np.r_[protocol.a[folds == f], protocol.b[folds == f]]}
        mean = ds.X[[k for k, i in enumerate(ds.ids) if ident[i] not in fold_ids]].astype(np.float64).mean(axis=0)
        other = np.flatnonzero(folds != f)
        s = []
        for p in other:
            a, b = ds.X[row[protocol.a[p]]] - mean, ds.X[row[protocol.b[p]]] - mean
            s.append(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
        assert t == pytest.approx(best_threshold(y[other], np.array(s)), abs=1e-6)
    own = kfold_at_thresholds(y, res.scores, folds, res.own_thresholds())
    np.testing.assert_allclose(res.scores, expected, atol=1e-6)
    # the offset moves every score of a fold and its threshold alike: the accuracy is unchanged
    own_shifted = kfold_at_thresholds(y, shifted.scores, folds, shifted.own_thresholds())
    np.testing.assert_allclose(own_shifted.per_fold, own.per_fold)
    # thresholds chosen on the other folds' models' scores (the old rule) mix the scales and fail
    pooled = kfold_accuracy(y, shifted.scores, folds)
    assert pooled.mean < own_shifted.mean - 0.1


def test_kfold_errors(synthetic, make_ds, make_proto):
    ds, protocol = synthetic
    no_folds = PairProtocol(images=protocol.images, pairs=protocol.pairs, labels=protocol.labels, name="nf")
    with pytest.raises(ProtocolError, match="no folds.*--train"):
        identity_disjoint_kfold(Cosine, ds, no_folds)
    small = make_ds(n_ids=6)
    one_fold = make_proto(small, n_folds=1, per_fold=10, id_range=(0, 5))  # identities 0-4; id005 is left
    with pytest.raises(ProtocolError, match="fold 0 leaves 1 training identities"):
        identity_disjoint_kfold(CenterOnTrain, small, one_fold)


def test_train_test_mode(make_ds, make_proto):
    train = make_ds(n_ids=40, seed=1)
    test = make_ds(n_ids=30, seed=2)
    # rename test identities so that they do not overlap with training ones
    test = type(test)(X=test.X, labels=np.char.add("t", test.labels),
                      ids=np.char.add("t", test.ids), provenance=test.provenance)
    protocol = make_proto(test)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", IdentityOverlapWarning)
        res = train_test_scores(CenterOnTrain, train, test, protocol)
    mean = train.X.astype(np.float64).mean(0)
    ia, ib = protocol.resolve(test)
    a, b = test.X[ia] - mean, test.X[ib] - mean
    expected = np.einsum("ij,ij->i", a, b) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    np.testing.assert_allclose(res.scores, expected, atol=1e-5)
    assert res.mode == "train-test" and res.n_train == [len(train)]


def test_train_test_warns_on_identity_overlap(synthetic):
    ds, protocol = synthetic
    with pytest.warns(IdentityOverlapWarning, match="identities of the synthetic pairs are also in the training"):
        train_test_scores(CenterOnTrain, ds, ds, protocol)


def test_kfold_refuses_labels_that_disagree_with_the_protocol(make_ds, make_proto):
    ds = make_ds(n_ids=40, per_id=4)
    p = make_proto(ds, n_folds=3)
    stated = PairProtocol(images=p.images, pairs=p.pairs, labels=p.labels, folds=p.folds, name="cfp-fp",
                          identities=[i.split("/")[0] for i in p.images])
    collapsed = type(ds)(X=ds.X, labels=["Data"] * len(ds), ids=ds.ids)
    with pytest.raises(ProtocolError, match=r"cfp-fp: the descriptor labels disagree with the identities the "
                                            r"protocol states for \d+ of \d+ images \('id\d+/.*' is labelled 'Data'"):
        identity_disjoint_kfold(CenterOnTrain, collapsed, stated)
    # without identities in the protocol: one clear line that names the single identity
    with pytest.raises(ProtocolError, match=r"only 1 identity \('Data'\): check its labels"):
        identity_disjoint_kfold(CenterOnTrain, collapsed, p)
