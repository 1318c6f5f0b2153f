"""Pair scoring on a Dask cluster equals single-process scoring, in order; bad inputs fail in one line."""

from __future__ import annotations

import sys
import time

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from facemetric.errors import ConfigError, InputError, MissingDependencyError, ProtocolError
from facemetric.metrics import METHODS
from facemetric.metrics.base import PairMetric
from facemetric.metrics.persist import save_model
from facemetric.scale import dask_client, load_index_pairs, score_pair_file, score_pairs_on_dask
from facemetric.io import save_descriptors
from facemetric.types import DescriptorSet
from facemetric.verify import evaluate_scores


@pytest.fixture(scope="module")
def client():
    """Two thread workers in this process (no sockets), shared by the module's tests."""
    with dask_client(workers=2, processes=False) as c:
        yield c


def _data(n=300, d=24, m=20_000, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 30, n)
    centres = rng.normal(size=(30, d))
    X = (centres[labels] + 0.5 * rng.normal(size=(n, d))).astype(np.float32)
    ia, ib = rng.integers(0, n, m), rng.integers(0, n, m)
    return X, labels.astype(str), ia, ib


def test_cosine_equals_brute_force_loop(client):
    X, _, ia, ib = _data(m=3000)
    metric = METHODS["cosine"]().fit(X[:1])
    got = score_pairs_on_dask(client, metric, X, ia, ib, partition_size=500, chunk_size=100)
    X64 = X.astype(np.float64)
    expected = [X64[a] @ X64[b] / (np.linalg.norm(X64[a]) * np.linalg.norm(X64[b])) for a, b in zip(ia, ib)]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("method", ["cosine", "l2", "lda", "wccn"])
def test_bit_identical_to_single_process_score_pairs(client, method):
    X, y, ia, ib = _data()
    metric = METHODS[method]().fit(X, y)
    got = score_pairs_on_dask(client, metric, X, ia, ib, partition_size=3000, chunk_size=1000)
    assert got.dtype == np.float64 and got.shape == (ia.size,)
    assert np.array_equal(got, metric.score_pairs(X, ia, ib, chunk_size=1000))


class SlowFirstPartition(PairMetric):
    """Cosine that sleeps on the partition holding pair 0, so later partitions finish first."""

    needs_labels = False

    def prepare(self, X):
        return X / np.linalg.norm(X, axis=1, keepdims=True)

    def score_prepared(self, Za, Zb):
        if np.array_equal(Za[0], self.marker_):
            time.sleep(0.3)
        return np.einsum("ij,ij->i", Za, Zb)


def test_order_is_kept_when_partitions_finish_out_of_order(client):
    X, _, ia, ib = _data(m=4000)
    metric = SlowFirstPartition().fit(X[:1])
    metric.marker_ = metric.prepare(X)[ia[0]]
    ia_unique = ia.copy()
    ia_unique[1:][ia[1:] == ia[0]] = (ia[0] + 1) % X.shape[0]  # only pair 0 carries the marker row
    got = score_pairs_on_dask(client, metric, X, ia_unique, ib, partition_size=400, chunk_size=400)
    assert np.array_equal(got, metric.score_pairs(X, ia_unique, ib, chunk_size=400))


def test_transductive_metric_sees_only_the_rows_of_the_pairs(client):
    X, _, ia, ib = _data(n=200, m=500)
    ia, ib = ia % 50, ib % 50  # only 50 of 200 rows are used
    metric = METHODS["test-center"]().fit(X[:1])
    got = score_pairs_on_dask(client, metric, X, ia, ib, partition_size=128, chunk_size=64)
    rows, inverse = np.unique(np.concatenate([ia, ib]), return_inverse=True)
    local = inverse.reshape(2, -1)
    assert np.array_equal(got, metric.score_pairs(X[rows], local[0], local[1], chunk_size=64))


@pytest.mark.timeout(90)
def test_two_worker_processes_on_loopback():
    X, y, ia, ib = _data(m=50_000)
    metric = METHODS["lda"]().fit(X, y)
    with dask_client(workers=2, processes=True) as c:
        assert c.scheduler.address.startswith("tcp://127.0.0.1:")
        got = score_pairs_on_dask(c, metric, X, ia, ib, partition_size=8192, chunk_size=4096)
    assert np.array_equal(got, metric.score_pairs(X, ia, ib, chunk_size=4096))


def _files(tmp_path, with_labels=True):
    X, y, ia, ib = _data(m=6000)
    ds = DescriptorSet(X=X, labels=y, ids=[f"{c}/{i}.jpg" for i, c in enumerate(y)])
    desc = tmp_path / "desc.npz"
    save_descriptors(ds, desc)
    labels = (y[ia] == y[ib]).astype(np.int8)
    folds = np.arange(ia.size) % 5
    pairs = tmp_path / "pairs.npz"
    arrays = {"pairs": np.stack([ia, ib], axis=1)}
    if with_labels:
        arrays.update(labels=labels, folds=folds)
    np.savez(pairs, **arrays)
    return ds, desc, pairs, ia, ib, labels, folds


def test_saved_model_scores_and_evaluation_match_single_process(client, tmp_path):
    ds, desc, pairs, ia, ib, labels, folds = _files(tmp_path)
    model = METHODS["lda-wccn"]().fit_descriptors(ds)
    save_model(model, tmp_path / "model")
    run = score_pair_file(client, desc, pairs, model_dir=tmp_path / "model", partition_size=1000, n_bootstrap=0)
    reference = model.score_pairs(ds.X, ia, ib)
    np.testing.assert_array_equal(run.scores, reference)
    assert run.result.auc == pytest.approx(roc_auc_score(labels, reference), abs=1e-12)
    # the intervals resample the people of the pairs (the descriptors' labels)
    groups = (ds.labels[ia], ds.labels[ib])
    assert run.result.to_dict() == evaluate_scores(labels, reference, folds, groups=groups, n_bootstrap=0).to_dict()
    assert run.result.resample == "identity"


def test_protocol_file_is_resolved_by_image_id(client, tmp_path):
    ds, desc, _, ia, ib, labels, _ = _files(tmp_path)
    csv = tmp_path / "pairs.csv"
    csv.write_text("a,b,label\n" + "".join(f"{ds.ids[a]},{ds.ids[b]},{lab}\n" for a, b, lab in zip(ia, ib, labels)))
    run = score_pair_file(client, desc, csv, method="cosine", partition_size=2000)
    metric = METHODS["cosine"]().fit(ds.X[:1])
    np.testing.assert_array_equal(run.scores, metric.score_pairs(ds.X, ia, ib))
    assert run.pairs.pair_ids is not None and run.result is not None


def test_bad_pair_files_fail_in_one_line(tmp_path):
    ds, *_ = _files(tmp_path)
    cases = {
        "out.npy": (np.array([[0, 1], [2, len(ds)]]), "points at row 300"),
        "neg.npy": (np.array([[0, -1]]), "points at row -1"),
        "shape.npy": (np.arange(6), "(M, 2)"),
        "float.npy": (np.zeros((3, 2)), "must be integers"),
    }
    for name, (arr, words) in cases.items():
        np.save(tmp_path / name, arr)
        with pytest.raises(ProtocolError, match=words) as err:
            load_index_pairs(tmp_path / name, ds)
        assert "\n" not in str(err.value)
    np.savez(tmp_path / "nopairs.npz", idx=np.zeros((2, 2), int))
    with pytest.raises(InputError, match="no 'pairs' array"):
        load_index_pairs(tmp_path / "nopairs.npz", ds)
    np.savez(tmp_path / "badlab.npz", pairs=np.zeros((2, 2), int), labels=np.array([0, 2]))
    with pytest.raises(ProtocolError, match="labels must be 2 values"):
        load_index_pairs(tmp_path / "badlab.npz", ds)
    (tmp_path / "broken.npy").write_bytes(b"not numpy")
    with pytest.raises(InputError, match="broken.npy: is not a readable .npy"):
        load_index_pairs(tmp_path / "broken.npy", ds)
    with pytest.raises(InputError, match="does not exist"):
        load_index_pairs(tmp_path / "missing.npy", ds)


def test_bad_options_fail_in_one_line(client, tmp_path):
    ds, desc, pairs, ia, ib, *_ = _files(tmp_path)
    with pytest.raises(ConfigError, match="must be fitted first"):
        score_pair_file(client, desc, pairs, method="lda")
    with pytest.raises(ConfigError, match="partition_size"):
        score_pairs_on_dask(client, METHODS["cosine"]().fit(ds.X[:1]), ds.X, ia, ib, partition_size=0)
    with pytest.raises(InputError, match="only 300 descriptors"):
        score_pairs_on_dask(client, METHODS["cosine"]().fit(ds.X[:1]), ds.X, ia, ib + 300)
    with pytest.raises(InputError, match="expecting 24 features"):
        score_pairs_on_dask(client, METHODS["cosine"]().fit(ds.X[:1]), ds.X[:, :5], ia, ib)


@pytest.mark.parametrize("address, words", [
    ("tcp://127.0.0.1:9", "cannot reach the Dask scheduler at tcp://127.0.0.1:9 within 1 s"),
    ("not an address", "--scheduler must look like tcp://HOST:PORT"),
    ("http://host:80", "--scheduler must look like tcp://HOST:PORT"),
])
def test_bad_scheduler_address_is_one_line(address, words):
    with pytest.raises(ConfigError) as err:
        with dask_client(address, timeout=1):
            pass
    assert words in str(err.value) and "\n" not in str(err.value)


def test_scheduler_and_local_workers_are_exclusive():
    with pytest.raises(ConfigError, match="not both"):
        with dask_client("tcp://127.0.0.1:9", workers=2):
            pass


def test_missing_dask_names_the_scale_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'facemetric\[scale\]'"):
        with dask_client(workers=1, processes=False):
            pass
