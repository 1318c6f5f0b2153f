"""Fast DeLong against the O(n^2) placement values, and against the bootstrap."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from facemetric.errors import ConfigError, InputError
from facemetric.verify import bootstrap_cis
from facemetric.verify.delong import delong_auc, placement_values


def brute_placements(y, s):
    pos, neg = s[y == 1], s[y == 0]
    v10 = np.array([np.mean((p > neg) + 0.5 * (p == neg)) for p in pos])
    v01 = np.array([np.mean((pos > q) + 0.5 * (pos == q)) for q in neg])
    return v10, v01


@pytest.mark.parametrize("ties", [False, True])
def test_placement_values_equal_the_quadratic_definition(ties):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    s = rng.normal(y, 1.0)
    if ties:
        s = np.round(s, 1)
    v10, v01 = placement_values(y, s)
    b10, b01 = brute_placements(y, s)
    np.testing.assert_allclose(v10, b10, atol=1e-12)
    np.testing.assert_allclose(v01, b01, atol=1e-12)
    res = delong_auc(y, s)
    assert res.auc == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    m, n = b10.size, b01.size
    assert res.se == pytest.approx(np.sqrt(b10.var(ddof=1) / m + b01.var(ddof=1) / n), rel=1e-12)


def test_clustered_delong_equals_the_block_sum_formula():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 400)
    s = rng.normal(y, 1.0)
    blocks = rng.integers(0, 30, 400)
    b10, b01 = brute_placements(y, s)
    auc = b10.mean()
    per_pair = np.empty(400)
    per_pair[y == 1] = (b10 - auc) / b10.size
    per_pair[y == 0] = (b01 - auc) / b01.size
    sums = np.array([per_pair[blocks == k].sum() for k in range(30)])
    expected = np.sqrt(30 / 29 * np.sum(sums**2))
    res = delong_auc(y, s, units=blocks)
    assert res.se == pytest.approx(expected, rel=1e-12) and res.n_units == 30
    # one block per pair gives back the plain form, up to the ddof convention
    plain = delong_auc(y, s)
    assert delong_auc(y, s, units=np.arange(400)).se == pytest.approx(plain.se, rel=0.01)


def test_delong_agrees_with_the_pair_bootstrap():
    rng = np.random.default_rng(2)
    y = np.r_[np.ones(1500, int), np.zeros(1500, int)]
    s = rng.normal(1.5 * y, 1.0)
    res = delong_auc(y, s)
    lo, hi = bootstrap_cis(y, s, resample="pair", n_bootstrap=600, seed=0, fars=())["auc"]
    assert res.ci[1] - res.ci[0] == pytest.approx(hi - lo, rel=0.12)
    assert res.ci[0] < res.auc < res.ci[1]


def test_delong_errors():
    y, s = np.array([1, 0, 1, 0]), np.array([0.9, 0.1, 0.8, 0.3])
    with pytest.raises(ConfigError, match="confidence"):
        delong_auc(y, s, confidence=1.5)
    with pytest.raises(InputError, match="one label per pair"):
        delong_auc(y, s, units=[0, 1])
