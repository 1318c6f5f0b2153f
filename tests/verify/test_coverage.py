"""Coverage of the default AUC interval, by simulation with a known true AUC.

Each simulated protocol has 200 identities; every identity has 5 matched pairs and the 1,000
mismatched pairs join two different identities drawn at random (each identity is in about 10
of them), so pairs share people as in CFP. Scores carry per-identity random effects:

    matched (identity i):      d + g_i + e       var(g) = 0.4, var(e) = 0.6
    mismatched (identities a, b): h_a + h_b + e    var(h) = 0.03, var(e) = 0.94

(the shares of variance that LFW View 2's cosine scores show between pairs that share a person).
For a new pair of new identities the matched and mismatched scores are independent normals of
variance 1, so the true AUC is Phi(d / sqrt(2)), and the estimate is unbiased for it.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from facemetric.verify import bootstrap_cis

N_IDS, PER_ID, N_IMPOSTOR, D = 200, 5, 1000, 3.0


def simulated_protocol(rng: np.random.Generator):
    a_gen = np.repeat(np.arange(N_IDS), PER_ID)
    a = rng.integers(0, N_IDS, N_IMPOSTOR)
    b = (a + rng.integers(1, N_IDS, N_IMPOSTOR)) % N_IDS
    y = np.r_[np.ones(a_gen.size, np.int8), np.zeros(N_IMPOSTOR, np.int8)]
    id_a, id_b = np.r_[a_gen, a], np.r_[a_gen, b]
    g = rng.normal(0, np.sqrt(0.4), N_IDS)
    h = rng.normal(0, np.sqrt(0.03), N_IDS)
    s = np.where(
        y == 1,
        D + g[id_a] + rng.normal(0, np.sqrt(0.6), y.size),
        h[id_a] + h[id_b] + rng.normal(0, np.sqrt(0.94), y.size),
    )
    return y, s, id_a, id_b


@pytest.mark.slow
def test_default_interval_covers_the_true_auc_and_pair_resampling_does_not():
    theta = norm.cdf(D / np.sqrt(2.0))
    rng = np.random.default_rng(0)
    covered = {"identity": [], "pair": []}
    width = {"identity": [], "pair": []}
    for i in range(600):
        y, s, id_a, id_b = simulated_protocol(rng)
        kinds = ("identity", "pair") if i < 300 else ("identity",)
        for kind in kinds:
            resample = "auto" if kind == "identity" else "pair"  # the default takes the identities
            lo, hi = bootstrap_cis(y, s, groups=(id_a, id_b), resample=resample, n_bootstrap=1000,
                                   seed=i, fars=())["auc"]
            covered[kind].append(lo <= theta <= hi)
            width[kind].append(hi - lo)
    identity, pair = np.mean(covered["identity"]), np.mean(covered["pair"])
    assert 0.93 <= identity <= 0.97, f"identity-level coverage {identity:.3f} over 600 protocols"
    assert pair <= 0.92, f"pair-level coverage {pair:.3f} over 300 protocols"
    assert np.mean(width["pair"]) < 0.85 * np.mean(width["identity"][:300])
