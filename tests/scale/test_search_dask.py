"""1:N search over a gallery sharded on Dask workers gives the single-process result."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from facemetric.errors import ConfigError
from facemetric.identification.search import search, topk_search
from facemetric.metrics import make_metric
from facemetric.scale import dask_client
from facemetric.scale.search import DaskSearchRunner
from facemetric.templates.groups import Groups
from facemetric.templates.scorers import make_set_scorer
from facemetric.types import DescriptorSet


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=2, processes=False) as c:
        yield c


def _sets(seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((50, 12)) * 2
    y = np.repeat(np.arange(50), 4)
    X = (centres[y] + rng.standard_normal((y.size, 12))).astype(np.float32)
    ds = DescriptorSet(X=X, labels=np.array([f"P{k}" for k in y]), ids=np.array([f"i{k}" for k in range(y.size)]))
    gallery = ds.subset(np.flatnonzero((np.arange(y.size) % 4 < 2) & (y < 40)))
    probes = ds.subset(np.flatnonzero(np.arange(y.size) % 4 >= 2))
    return gallery, probes


@pytest.mark.parametrize(("method", "pooled"), [("cosine", False), ("plda", True)])
def test_sharded_search_equals_single_process(client, method, pooled):
    gallery, probes = _sets()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metric = make_metric(method).fit(gallery.X, gallery.labels)
    scorer = make_set_scorer(metric)
    groups = Groups.by_label(gallery) if pooled else None
    here = search(scorer, gallery, probes, gallery_groups=groups, n_candidates=5, budget=4096)
    shards = []
    there = search(scorer, gallery, probes, gallery_groups=groups, n_candidates=5, budget=4096,
                   runner=DaskSearchRunner(client, n_shards=3, on_shard=lambda d, n: shards.append((d, n))))
    assert shards[-1] == (3, 3)
    np.testing.assert_array_equal(there.rank, here.rank)
    np.testing.assert_array_equal(there.candidates, here.candidates)
    np.testing.assert_allclose(there.candidate_scores, here.candidate_scores, rtol=1e-6)
    np.testing.assert_equal(there.figures(), here.figures())  # NaN where an FPIR cannot be measured


def test_sharded_topk(client):
    rng = np.random.default_rng(1)
    G = rng.standard_normal((1000, 8)).astype(np.float32)
    Q = rng.standard_normal((30, 8)).astype(np.float32)
    scorer = make_set_scorer(make_metric("cosine").fit(G[:1]))
    local = topk_search(scorer, Q, G, 7)
    sharded = topk_search(scorer, Q, G, 7, runner=DaskSearchRunner(client, n_shards=4))
    np.testing.assert_array_equal(sharded[1], local[1])
    with pytest.raises(ConfigError, match="n_shards"):
        DaskSearchRunner(client, n_shards=0)
