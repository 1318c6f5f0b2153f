"""Template pooling and PLDA multi-sample enrolment against brute-force references.

Pooling is recomputed with plain loops over templates and media. The PLDA set likelihood
ratio is recomputed as the direct Gaussian log-likelihood ratio of the stacked samples under
the fitted model (scipy's multivariate normal): all samples of both sets from one subject,
against each set from its own subject.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from facemetric.errors import ConfigError, InputError
from facemetric.metrics import make_metric
from facemetric.templates.groups import Groups
from facemetric.templates.plda_sets import PLDASetScorer
from facemetric.templates.pooling import PooledScorer, pool_descriptors
from facemetric.templates.protocol import TemplateMap
from facemetric.templates.scorers import make_set_scorer
from facemetric.types import DescriptorSet


def _pool_by_loops(X, templates, media, q):
    out = {}
    for t in sorted(set(templates)):
        rows = [i for i in range(len(templates)) if templates[i] == t]
        total = np.zeros(X.shape[1])
        for m in sorted({media[i] for i in rows}):
            members = [i for i in rows if media[i] == m]
            total += sum(q[i] * X[i] / np.linalg.norm(X[i]) for i in members) / len(members)
        out[t] = total / np.linalg.norm(total) * np.mean([np.linalg.norm(X[i]) for i in rows])
    return out


@pytest.mark.parametrize("weighted", [False, True])
def test_pooling_by_media_then_template_matches_loops(weighted):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 6)).astype(np.float32) * rng.uniform(0.5, 3, (40, 1)).astype(np.float32)
    templates = rng.integers(10, 17, 40)  # 7 templates with several media each
    media = rng.integers(0, 3, 40)  # media ids repeat across templates, as in IJB files
    q = rng.uniform(0.1, 1.0, 40) if weighted else np.ones(40)
    ids = np.array([f"img{i}.jpg" for i in range(40)])
    ds = DescriptorSet(X=X, labels=np.array(["p"] * 40), ids=ids)
    tmap = TemplateMap(ids[::-1], templates[::-1], media[::-1])  # map rows in another order than X
    groups = Groups.from_map(tmap, ds, weights=q if weighted else None)  # one weight per descriptor
    pooled = pool_descriptors(X, groups)
    expected = _pool_by_loops(X.astype(np.float64), templates, media, q)
    assert list(groups.names) == [str(t) for t in sorted(expected)]
    for k, t in enumerate(sorted(expected)):
        np.testing.assert_allclose(pooled[k], expected[t], rtol=1e-5, atol=1e-6)


def test_a_template_of_one_image_is_that_image():
    X = np.array([[3.0, 4.0], [1.0, 0.0], [0.0, 2.0]], dtype=np.float32)
    ds = DescriptorSet(X=X, labels=np.array(["a", "b", "b"]), ids=np.array(["x", "y", "z"]))
    pooled = pool_descriptors(X, Groups.by_label(ds))
    np.testing.assert_allclose(pooled[0], [3.0, 4.0], rtol=1e-6)
    np.testing.assert_allclose(pooled[1], np.array([1.0, 1.0]) / np.sqrt(2) * 1.5, rtol=1e-6)


def test_empty_and_zero_weight_templates_are_refused():
    ds = DescriptorSet(X=np.eye(3, dtype=np.float32), labels=np.array(["a", "b", "c"]),
                       ids=np.array(["x", "y", "z"]))
    with pytest.raises(InputError, match="template 'b' has no images"):
        Groups(np.array([0, 2]), np.array([0, 2]), np.array([0, 2]), np.array(["a", "b", "c"]), np.array(["a", "b", "c"]))
    tmap = TemplateMap(np.array(["x", "y"]), np.array([1, 1]), np.array([1, 2]))
    with pytest.raises(InputError, match="mixes subjects"):
        Groups.from_map(tmap, ds)
    same = DescriptorSet(X=ds.X, labels=np.array(["a", "a", "c"]), ids=ds.ids)
    with pytest.raises(InputError, match="zero vector"):
        pool_descriptors(ds.X, Groups.from_map(tmap, same, weights=np.zeros(3)))
    with pytest.raises(InputError, match="empty"):
        Groups.by_label(ds.subset(np.array([], dtype=int)))


def _plda_and_data(dim=6):
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((40, dim)) * 1.5
    y = np.repeat(np.arange(40), 6)
    X = (centres[y] + 0.7 * rng.standard_normal((y.size, dim)) + 1.0).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plda = make_metric("plda", n_iter=5).fit(X, y.astype(str))
    return plda, X


def _model_space(plda, X):
    Z = X / np.linalg.norm(X, axis=1, keepdims=True)
    Z = Z - plda.recenter_mean_
    return (Z / np.linalg.norm(Z, axis=1, keepdims=True)).astype(np.float64)


def _stacked_llr(plda, ZA, ZB):
    """Direct Gaussian LLR of stacked samples: one subject for A and B, against one subject each."""
    m, Sb, Sw = plda.mean_.astype(np.float64), plda.between_, plda.within_

    def logpdf(Z):
        n = Z.shape[0]
        cov = np.kron(np.ones((n, n)), Sb) + np.kron(np.eye(n), Sw)
        return multivariate_normal(np.tile(m, n), cov).logpdf(Z.ravel())

    return logpdf(np.vstack([ZA, ZB])) - logpdf(ZA) - logpdf(ZB)


@pytest.mark.parametrize(("na", "nb"), [(1, 1), (1, 4), (3, 2), (5, 5)])
def test_plda_multi_enrolment_llr_is_the_stacked_gaussian_ratio(na, nb):
    plda, X = _plda_and_data()
    rng = np.random.default_rng(na * 10 + nb)
    for same in (True, False):
        first = rng.choice(np.arange(0, 6), na, replace=False)
        second = rng.choice(np.arange(6, 12) if not same else np.arange(0, 6), nb, replace=False) + (6 if same else 0)
        A, B = X[first], X[second]
        scorer = PLDASetScorer(plda)
        EA = scorer.encode(A, _one_template(na))
        EB = scorer.encode(B, _one_template(nb))
        expected = _stacked_llr(plda, _model_space(plda, A), _model_space(plda, B))
        assert scorer.score_prepared(EA, EB)[0] == pytest.approx(expected, abs=2e-3, rel=1e-4)
        assert scorer.score_matrix(EA, EB)[0, 0] == pytest.approx(expected, abs=2e-3, rel=1e-4)


def _one_template(n):
    idx = np.arange(n)
    return Groups(idx, np.zeros(n, dtype=np.int64), idx, np.array(["t"]), np.array(["s"]))


def test_plda_sets_of_one_sample_reproduce_the_pair_score():
    plda, X = _plda_and_data()
    scorer = PLDASetScorer(plda)
    E = scorer.encode(X)
    ia, ib = np.arange(0, 60), np.arange(60, 120)
    np.testing.assert_allclose(scorer.score_prepared(E[ia], E[ib]), plda.pair_score(X[ia], X[ib]), rtol=1e-4,
                               atol=1e-3)


def test_plda_score_matrix_groups_sizes_correctly():
    plda, X = _plda_and_data()
    scorer = PLDASetScorer(plda)
    labels = np.array([f"t{k % 7}" for k in range(50)])  # 7 templates of unequal sizes
    ds = DescriptorSet(X=X[:50], labels=labels, ids=np.array([f"i{k}" for k in range(50)]))
    E = scorer.encode(ds.X, Groups.by_label(ds))
    F = scorer.encode(X[100:130], Groups(np.arange(30), np.arange(30) % 4, np.arange(30),
                                         np.array(list("abcd")), np.array(list("abcd"))))
    M = scorer.score_matrix(E, F)
    brute = np.array([[scorer.score_prepared(E[i:i + 1], F[j:j + 1])[0] for j in range(len(F))]
                      for i in range(len(E))])
    np.testing.assert_allclose(M, brute, rtol=1e-9, atol=1e-9)


def test_scorer_choice_and_refusals():
    plda, X = _plda_and_data()
    assert isinstance(make_set_scorer(plda), PLDASetScorer)
    assert isinstance(make_set_scorer(plda, "mean"), PooledScorer)
    assert isinstance(make_set_scorer(make_metric("cosine").fit(X)), PooledScorer)
    with pytest.raises(ConfigError, match="PLDA"):
        make_set_scorer(make_metric("cosine").fit(X), "native")
    with pytest.raises(ConfigError, match="transductive"):
        make_set_scorer(make_metric("test-center").fit(X, np.repeat(np.arange(40), 6).astype(str)))
    with pytest.raises(ConfigError, match="quality weights"):
        g = _one_template(3)
        PLDASetScorer(plda).encode(X[:3], Groups(g.rows, g.template, g.media, g.names, g.subjects, np.ones(3)))
