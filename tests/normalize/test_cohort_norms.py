"""Z-, T-, S- and AS-norm against brute-force loops over the cohort."""

from __future__ import annotations

import numpy as np
import pytest

from facemetric.errors import ConfigError
from facemetric.metrics import METHODS, make_metric
from facemetric.metrics.persist import load_model, save_model
from facemetric.normalize import ASNorm, SNorm, TNorm, ZNorm, draw_cohort


def clustered(n_ids: int = 30, per_id: int = 4, dim: int = 8, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(n_ids), per_id)
    X = rng.normal(size=(n_ids, dim))[y] + 0.8 * rng.normal(size=(y.size, dim)) + 0.5
    return X.astype(np.float32), np.array([f"p{i}" for i in y])


def cos(a, b):
    return float(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b))


def stats_by_hand(x, cohort, top_k=None):
    s = np.array([cos(x, c) for c in cohort])
    if top_k is not None:
        s = np.sort(s)[::-1][:top_k]
    return s.mean(), s.std()


def test_registered():
    for name, cls in (("z-norm", ZNorm), ("t-norm", TNorm), ("s-norm", SNorm), ("as-norm", ASNorm)):
        assert METHODS[name] is cls


def test_draw_cohort_is_seeded_and_covers_identities_first():
    _, y = clustered(30, 4)
    a = draw_cohort(y, y.size, 25, seed=1)
    np.testing.assert_array_equal(a, draw_cohort(y, y.size, 25, seed=1))
    assert not np.array_equal(a, draw_cohort(y, y.size, 25, seed=2))
    assert np.unique(y[a]).size == 25  # one image per identity while identities remain
    b = draw_cohort(y, y.size, 45, seed=1)
    assert np.unique(y[b]).size == 30 and np.unique(b).size == 45
    np.testing.assert_array_equal(draw_cohort(y, y.size, 500, seed=0), np.arange(y.size))
    with pytest.raises(ConfigError, match="cohort_size"):
        draw_cohort(y, y.size, 1, seed=0)


@pytest.mark.parametrize("cls", [ZNorm, TNorm, SNorm, ASNorm])
def test_scores_match_a_brute_force_loop(cls):
    X, y = clustered()
    Xt, _ = clustered(seed=5)
    params = {"cohort_size": 40, "seed": 3}
    if cls is ASNorm:
        params["top_k"] = 7
    norm = cls(**params).fit(X, y)
    cohort = X[norm.cohort_rows_]
    assert cohort.shape[0] == 40
    top_k = params.get("top_k")
    pairs = [(0, 1), (2, 9), (17, 4), (30, 31)]
    got = norm.pair_score(Xt[[a for a, _ in pairs]], Xt[[b for _, b in pairs]])
    for (a, b), score in zip(pairs, got):
        raw = cos(Xt[a], Xt[b])
        ma, sa = stats_by_hand(Xt[a], cohort, top_k)
        mb, sb = stats_by_hand(Xt[b], cohort, top_k)
        za, zb = (raw - ma) / sa, (raw - mb) / sb
        expected = {ZNorm: za, TNorm: zb, SNorm: 0.5 * (za + zb), ASNorm: 0.5 * (za + zb)}[cls]
        assert score == pytest.approx(expected, rel=1e-5, abs=1e-6)
    ia, ib = np.array([a for a, _ in pairs]), np.array([b for _, b in pairs])
    np.testing.assert_allclose(norm.score_pairs(Xt, ia, ib), got, rtol=1e-6)


def test_as_norm_with_the_whole_cohort_is_s_norm():
    X, y = clustered()
    s = SNorm(cohort_size=30).fit(X, y)
    a = ASNorm(cohort_size=30, top_k=30).fit(X, y)
    np.testing.assert_allclose(a.pair_score(X[:20], X[20:40]), s.pair_score(X[:20], X[20:40]))


def test_wraps_a_learned_metric_and_saves_it(tmp_path):
    X, y = clustered()
    norm = SNorm(metric={"method": "center"}, cohort_size=20).fit(X, y)
    base = make_metric("center").fit(X, y)
    # same ranking direction as the base for clearly different score levels, and brute force on the base
    cohort = X[norm.cohort_rows_]
    Zc = base.prepare(cohort)
    za = base.prepare(X[:1])
    zb = base.prepare(X[1:2])
    raw = float(base.score_prepared(za, zb)[0])
    sa = base.score_prepared(np.repeat(za, 20, 0), Zc)
    sb = base.score_prepared(np.repeat(zb, 20, 0), Zc)
    expected = 0.5 * ((raw - sa.mean()) / sa.std() + (raw - sb.mean()) / sb.std())
    assert norm.pair_score(X[:1], X[1:2])[0] == pytest.approx(expected, rel=1e-5)
    save_model(norm, tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    np.testing.assert_allclose(loaded.pair_score(X[:10], X[10:20]), norm.pair_score(X[:10], X[10:20]), rtol=1e-6)


def test_bad_parameters():
    X, y = clustered()
    with pytest.raises(ConfigError, match="top_k"):
        ASNorm(top_k=0).fit(X, y)
    with pytest.raises(ConfigError, match="cohort_size"):
        SNorm(cohort_size=1).fit(X, y)
    with pytest.raises(ConfigError, match="unknown metric"):
        SNorm(metric="no-such-metric").fit(X, y)
    with pytest.raises(ConfigError, match="inductive"):
        SNorm(metric="test-center").fit(X, y)
    with pytest.raises(ConfigError, match="'method' key"):
        SNorm(metric={"cohort": 3}).fit(X, y)
