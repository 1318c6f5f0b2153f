"""Fit time and peak memory of the closed-form metrics at CASIA-WebFace scale.

500,000 x 512 float32 synthetic descriptors of 10,000 identities (50 images each):
identity centres drawn uniformly on the sphere, plus within-identity Gaussian noise
that is stronger along 64 "pose" axes, L2-normalised. Each method is fitted in a fresh
subprocess that regenerates the data (seeded, by chunks); its peak memory is
``ru_maxrss`` after the fit minus ``ru_maxrss`` once the data exist. The reference is
scikit-learn's ``LinearDiscriminantAnalysis`` fitted on the same data in the same run.
Then the scoring speed (pairs/s) of ``wccn`` (the best method on LFW) against cosine.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_fit.py [--n 500000] [--ids 10000] [--dim 512]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings

import numpy as np

METHODS = ("sklearn-lda", "center", "pca-whiten", "lda", "wccn", "lda-wccn", "joint-bayes", "plda", "kissme")


def make_data(n: int, ids: int, dim: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((ids, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    y = rng.permutation(np.arange(n) % ids).astype(np.int32)
    scale = np.full(dim, 0.7 / np.sqrt(dim), dtype=np.float32)
    scale[:64] *= 3.0  # "pose" axes
    X = np.empty((n, dim), dtype=np.float32)
    for lo in range(0, n, 20_000):
        noise = rng.standard_normal((min(20_000, n - lo), dim), dtype=np.float32) * scale
        block = centres[y[lo:lo + 20_000]] + noise
        X[lo:lo + 20_000] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return X, y


def maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def child(method: str, n: int, ids: int, dim: int) -> None:
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    from facemetric.metrics import make_metric  # imports before the baseline: not counted

    X, y = make_data(n, ids, dim)
    base = maxrss_mib()
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "sklearn-lda":
            LinearDiscriminantAnalysis().fit(X, y)
        else:
            make_metric(method).fit(X, y)
    fit_s = time.perf_counter() - t0
    print(json.dumps({"method": method, "fit_s": fit_s, "peak_extra_mib": max(0.0, maxrss_mib() - base),
                      "data_mib": X.nbytes / 2**20}))


def scoring_speed(n: int, ids: int, dim: int, n_pairs: int = 2_000_000) -> None:
    from facemetric.metrics import make_metric

    X, y = make_data(n, ids, dim)
    rng = np.random.default_rng(1)
    ia, ib = rng.integers(0, n, n_pairs), rng.integers(0, n, n_pairs)
    train = rng.permutation(n)[: n // 5]
    rates = {}
    for name in ("cosine", "wccn"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            metric = make_metric(name).fit(X[train], y[train])
        t0 = time.perf_counter()
        metric.score_pairs(X, ia, ib)
        rates[name] = n_pairs / (time.perf_counter() - t0)
        print(f"scoring {name:8s} {rates[name]:,.0f} pairs/s "
              f"(score_pairs, {n_pairs:,} pairs over {n:,} descriptors)")
    print(f"wccn / cosine scoring speed ratio: {rates['wccn'] / rates['cosine']:.2f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=500_000)
    ap.add_argument("--ids", type=int, default=10_000)
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.n, args.ids, args.dim)
        return 0
    print(f"{args.n:,} x {args.dim} float32, {args.ids:,} identities; OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS', 'unset')}", flush=True)
    rows = []
    for method in args.methods.split(","):
        out = subprocess.run(
            [sys.executable, __file__, "--child", method, "--n", str(args.n), "--ids", str(args.ids),
             "--dim", str(args.dim)], capture_output=True, text=True, check=False)
        if out.returncode != 0:
            print(f"{method}: failed\n{out.stderr[-2000:]}", flush=True)
            continue
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        r = rows[-1]
        print(f"  {method:12s} fit {r['fit_s']:8.1f} s   peak extra memory {r['peak_extra_mib']:8.0f} MiB",
              flush=True)
    ref = next((r for r in rows if r["method"] == "sklearn-lda"), None)
    if ref:
        print("\n| method | fit (s) | x sklearn LDA time | peak extra memory (MiB) | x sklearn LDA memory |")
        print("|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['method']} | {r['fit_s']:.1f} | {r['fit_s'] / ref['fit_s']:.2f} | "
                  f"{r['peak_extra_mib']:.0f} | {r['peak_extra_mib'] / max(ref['peak_extra_mib'], 1):.2f} |")
        print(f"(data itself: {rows[0]['data_mib']:.0f} MiB)\n", flush=True)
    scoring_speed(args.n, args.ids, args.dim)
    return 0


if __name__ == "__main__":
    sys.exit(main())
