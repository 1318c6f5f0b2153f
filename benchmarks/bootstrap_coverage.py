"""Coverage of 95% AUC intervals by simulation with a known true AUC, for several protocol layouts
and resampling schemes (the table of docs/evaluation.md, "Confidence intervals").

    OMP_NUM_THREADS=2 nice -n 5 .venv/bin/python benchmarks/bootstrap_coverage.py --protocols 400 \
        --out runs/bootstrap_coverage.json

Layouts (scores: matched = d + g_i + e, mismatched = h_a + h_b + e, unit variance per class, so the
true AUC is Phi(d / sqrt(2)); var(g) and var(h) are the shares LFW View 2's cosine scores show):

* ``dense``: the layout of tests/verify/test_coverage.py (200 identities, 5 matched pairs each,
  1,000 mismatched pairs between random identities);
* ``cfp``: 500 identities in 10 identity-disjoint folds of 50, 7 matched pairs per identity and
  350 mismatched pairs per fold (CFP's layout);
* ``lfw``: the identities and pairs of LFW View 2 itself (needs ../shared/data/lfw/pairs.txt).

Schemes: the default (identities, with the dyadic correction), the plain pigeonhole product
weights without it, folds, and pairs.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from facemetric.verify.bootstrap import bootstrap_from_plans, percentile_ci
from facemetric.verify.curves import SortedScores
from facemetric.verify.replicates import ReplicatePlan, unit_draws
from facemetric.verify.units import resampling_units

LFW = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "lfw" / "pairs.txt"
VAR_G, VAR_H, D = 0.4, 0.03, 3.0


def layout_dense(rng):
    a_gen = np.repeat(np.arange(200), 5)
    a = rng.integers(0, 200, 1000)
    b = (a + rng.integers(1, 200, 1000)) % 200
    return np.r_[np.ones(1000, np.int8), np.zeros(1000, np.int8)], np.r_[a_gen, a], np.r_[a_gen, b], None


def layout_cfp(rng):
    y, ia, ib, folds = [], [], [], []
    for k in range(10):
        ids = np.arange(50 * k, 50 * k + 50)
        g = np.repeat(ids, 7)
        i = rng.choice(ids, 350)
        j = ids[(i - 50 * k + rng.integers(1, 50, 350)) % 50]
        y += [1] * g.size + [0] * 350
        ia += [*g, *i]
        ib += [*g, *j]
        folds += [k] * (g.size + 350)
    return np.array(y, np.int8), np.array(ia), np.array(ib), np.array(folds)


_LFW_CACHE: dict = {}


def layout_lfw(_rng, cache=_LFW_CACHE):
    if "lfw" not in cache:
        from facemetric.io import load_protocol
        from facemetric.verify.guard import identities_from_paths

        p = load_protocol(LFW)
        names = identities_from_paths(p.images)
        _, code = np.unique(names, return_inverse=True)
        cache["lfw"] = (p.labels.astype(np.int8), code[p.pairs[:, 0]], code[p.pairs[:, 1]], p.folds)
    return cache["lfw"]


LAYOUTS = {"dense": layout_dense, "cfp": layout_cfp, "lfw": layout_lfw}


def scores(rng, y, a, b):
    n = int(max(a.max(), b.max())) + 1
    g, h = rng.normal(0, np.sqrt(VAR_G), n), rng.normal(0, np.sqrt(VAR_H), n)
    return np.where(y == 1, D + g[a] + rng.normal(0, np.sqrt(1 - VAR_G), y.size),
                    h[a] + h[b] + rng.normal(0, np.sqrt(1 - 2 * VAR_H), y.size))


def plain_pigeonhole(y, s, a, b, n_boot, seed):
    """Product weights W[a] * W[b] without the dyadic correction (for comparison only)."""
    sc = SortedScores(y, s)
    units = resampling_units(y.size, groups=(a, b))
    plan = ReplicatePlan.build([sc], np.zeros(y.size, int), units)
    rng = np.random.default_rng(seed)
    vals = []
    for start in range(0, n_boot, 64):
        draws = unit_draws(rng, units.n_units, min(64, n_boot - start))
        vals.append(plan.figures(plan.unit_histogram(draws, 0), 0, np.array([]))["auc"])
    return percentile_ci(np.concatenate(vals), 0.95)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--protocols", type=int, default=400)
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--layouts", default="dense,cfp,lfw")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    theta = norm.cdf(D / np.sqrt(2.0))
    results = []
    for name in args.layouts.split(","):
        if name == "lfw" and not LFW.exists():
            print(f"skipping lfw: {LFW} not found")
            continue
        rng = np.random.default_rng(args.seed)
        hits: dict[str, list] = {}
        widths: dict[str, list] = {}
        aucs = []
        t = time.time()
        for i in range(args.protocols):
            y, a, b, folds = LAYOUTS[name](rng)
            s = scores(rng, y, a, b)
            aucs.append(roc_auc_score(y, s))
            cis = {}
            sc = SortedScores(y, s)
            for kind in ("identity", "pair") + (("fold",) if folds is not None else ()):
                units = resampling_units(y.size, groups=(a, b), folds=folds, resample=kind)
                cis[kind] = bootstrap_from_plans(sc, None, n_bootstrap=args.bootstrap, seed=i, fars=(),
                                                 confidence=0.95, units=units).cis["auc"]
            cis["pigeonhole, uncorrected"] = plain_pigeonhole(y, s, a, b, args.bootstrap, i)
            for kind, (lo, hi) in cis.items():
                hits.setdefault(kind, []).append(lo <= theta <= hi)
                widths.setdefault(kind, []).append(hi - lo)
        sd = float(np.std(aucs))
        for kind, hit in hits.items():
            row = {"layout": name, "scheme": kind, "protocols": args.protocols, "coverage": float(np.mean(hit)),
                   "mean_width": float(np.mean(widths[kind])),
                   "width_over_true": float(np.mean(widths[kind]) / (2 * norm.ppf(0.975) * sd))}
            results.append(row)
            print(f"{name:6s} {kind:24s} coverage {row['coverage']:.3f}  width / (2 x 1.96 x true SD) "
                  f"{row['width_over_true']:.2f}", flush=True)
        print(f"  ({time.time() - t:.0f} s)", flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"theta": theta, "rows": results, "seed": args.seed,
                                        "n_bootstrap": args.bootstrap}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
