"""Cost of 1,000 identity-aware bootstrap replicates on 10 million pairs, against the evaluation
without CIs, in the same run; and the error of the binned replicates against exact ones.

Run from the repository root:

    OMP_NUM_THREADS=2 nice -n 5 .venv/bin/python benchmarks/bench_bootstrap.py --out runs/bench_bootstrap.json

The protocol is synthetic: ``--identities`` people; half the pairs matched (both sides one
person), half mismatched (two different people drawn at random), so pairs share people as in
LFW or CFP; scores carry a per-identity random effect. Timed in one process:

* ``no_ci``: ``evaluate_scores(..., n_bootstrap=0)`` (AUC, 10 stratified folds with the exact
  threshold search, EER, TAR@FAR 1e-1..1e-6), before and after the next one (their mean is the
  reference: the load of a shared machine drifts);
* ``with_ci``: the same call with ``groups=(id_a, id_b)`` and ``n_bootstrap`` replicates
  (identities resampled, the default);
* ``legacy``: one replicate of the former per-pair path (exact weighted curve plus the 10-fold
  threshold search under pair weights), timed ``--legacy-reps`` times, times ``n_bootstrap``.

It prints ``(with_ci - no_ci) / no_ci``, the replicates' cost in units of the evaluation
without CIs (target <= 15), in wall-clock seconds and in this process's CPU seconds (less
sensitive to other jobs on a shared machine), and the legacy figure. It then draws ``--check-reps`` identity
replicates and compares the binned figures (shifted by exact - binned point estimate, as the
library does) with the exact figures of the same per-pair weights ``W[a] * W[b]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np


def make_protocol(n_pairs: int, n_ids: int, seed: int):
    rng = np.random.default_rng(seed)
    half = n_pairs // 2
    ga = rng.integers(0, n_ids, half)
    ia = rng.integers(0, n_ids, n_pairs - half)
    ib = (ia + rng.integers(1, n_ids, n_pairs - half)) % n_ids
    a, b = np.r_[ga, ia].astype(np.int32), np.r_[ga, ib].astype(np.int32)
    y = np.r_[np.ones(half, np.int8), np.zeros(n_pairs - half, np.int8)]
    g, h = rng.normal(0, 0.4, n_ids), rng.normal(0, 0.2, n_ids)
    s = np.where(y == 1, 2.6 + g[a], h[a] + h[b])
    s += rng.normal(0, 1, n_pairs)
    return y, s, a, b


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1024**3


def exact_tpr_at(scores, w, target):
    fpr, tpr, _ = scores.rates(w)
    j = np.count_nonzero(fpr <= target * (1 + 1e-12)) - 1
    if j + 1 < fpr.size and fpr[j + 1] > fpr[j]:
        return tpr[j] + (target - fpr[j]) / (fpr[j + 1] - fpr[j]) * (tpr[j + 1] - tpr[j])
    return tpr[j]


def binning_check(y, s, a, b, folds, n_reps: int, fars, seed: int) -> dict:
    """Max |binned - exact| per figure over ``n_reps`` identity replicates."""
    from facemetric.verify.accuracy import FoldPlan
    from facemetric.verify.bootstrap import curve_metrics, exact_figures, operating_fars
    from facemetric.verify.curves import SortedScores
    from facemetric.verify.replicates import ReplicatePlan, point_figures, unit_draws
    from facemetric.verify.units import NO_UNIT, resampling_units

    scores = SortedScores(y, s)
    units = resampling_units(y.size, groups=(a, b))
    plan = ReplicatePlan.build([scores], folds, units)
    fold_plan = FoldPlan(scores, folds)
    f0 = operating_fars(scores, fars)
    point = point_figures(plan, 0, f0)
    exact0 = exact_figures(scores, fold_plan, fars)
    draws = unit_draws(np.random.default_rng(seed), units.n_units, n_reps)
    got = plan.figures(plan.unit_histogram(draws, 0), 0, f0)
    ua = units.ends[:, 0]
    ub = np.where(units.ends[:, 1] == NO_UNIT, units.n_units, units.ends[:, 1])
    err = {"auc": 0.0, "eer": 0.0, "accuracy": 0.0, "tar": 0.0}
    for r in range(n_reps):
        W = np.r_[draws[:, r].astype(np.float64), 1.0]
        w = W[ua] * W[ub]
        m = curve_metrics(scores, w, ())
        ws = w.copy()
        for c in (0, 1):
            ws[y == c] *= np.count_nonzero(y == c) / w[y == c].sum()
        acc = np.nanmean(fold_plan.evaluate(ws)[0])
        for key, exact in (("auc", m["auc"]), ("eer", m["eer"]), ("accuracy", acc)):
            shifted = got[key][r] + (exact0[key] - point[key][0])
            err[key] = max(err[key], abs(float(shifted - exact)))
        for j, target in enumerate(f0):
            if np.isfinite(target):
                shifted = got["tar"][j, r] + (exact0["tar"][j] - point["tar"][j, 0])
                err["tar"] = max(err["tar"], abs(float(shifted - exact_tpr_at(scores, w, target))))
    return {"max_abs_error": err, "n_bins": plan.bins[0].n_bins, "n_runs": plan.bins[0].n_runs,
            "n_fold_bins": int(plan.fold_bins[0].starts.size), "bins_exact": plan.bins[0].exact}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=float, default=10_000_000)
    ap.add_argument("--identities", type=int, default=100_000)
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--legacy-reps", type=int, default=2)
    ap.add_argument("--check-reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    from facemetric.verify import evaluate_scores
    from facemetric.verify.accuracy import FoldPlan, make_folds
    from facemetric.verify.bootstrap import curve_metrics
    from facemetric.verify.curves import DEFAULT_FARS, SortedScores

    n = int(args.pairs)
    y, s, a, b = make_protocol(n, args.identities, args.seed)
    print(f"{n:,} pairs over {args.identities:,} identities; {os.environ.get('OMP_NUM_THREADS', '?')} threads",
          flush=True)

    def no_ci() -> tuple[float, float]:
        t, c = time.perf_counter(), time.process_time()
        evaluate_scores(y, s, n_bootstrap=0, seed=args.seed)
        return time.perf_counter() - t, time.process_time() - c

    t_before, c_before = no_ci()
    print(f"no CI: {t_before:.1f} s ({c_before:.1f} s CPU)", flush=True)

    done = [0]
    t_last = [time.perf_counter()]

    def progress(k: int) -> None:
        done[0] += k
        if time.perf_counter() - t_last[0] > 60:
            t_last[0] = time.perf_counter()
            print(f"  {done[0]} / {args.bootstrap} replicates", flush=True)

    t, c = time.perf_counter(), time.process_time()
    res = evaluate_scores(y, s, groups=(a, b), n_bootstrap=args.bootstrap, seed=args.seed, progress=progress)
    t_ci, c_ci = time.perf_counter() - t, time.process_time() - c
    rss_ci = peak_rss_gib()
    t_after, c_after = no_ci()
    t_no_ci = 0.5 * (t_before + t_after)  # the load on a shared machine drifts: time it on both sides
    c_no_ci = 0.5 * (c_before + c_after)
    ratio = (t_ci - t_no_ci) / t_no_ci
    cpu_ratio = (c_ci - c_no_ci) / c_no_ci  # CPU seconds of this process: less sensitive to other jobs
    print(f"with {args.bootstrap} identity replicates: {t_ci:.1f} s ({c_ci:.1f} s CPU); no CI again: "
          f"{t_after:.1f} s ({c_after:.1f} s CPU); replicates / no-CI = {ratio:.2f} wall, {cpu_ratio:.2f} CPU",
          flush=True)

    scores = SortedScores(y, s)
    plan = FoldPlan(scores, make_folds(y, seed=args.seed))
    rng = np.random.default_rng(1)
    c = time.process_time()
    t = time.perf_counter()
    for _ in range(args.legacy_reps):
        w = np.bincount(rng.integers(0, n, n), minlength=n)
        curve_metrics(scores, w, DEFAULT_FARS)
        plan.evaluate(w)
    t_legacy = (time.perf_counter() - t) / args.legacy_reps
    c_legacy = (time.process_time() - c) / args.legacy_reps
    legacy_ratio = t_legacy * args.bootstrap / t_no_ci
    legacy_cpu_ratio = c_legacy * args.bootstrap / c_no_ci
    print(f"legacy per-pair replicate: {t_legacy:.2f} s; {args.bootstrap} of them / no-CI = {legacy_ratio:.0f} wall, "
          f"{legacy_cpu_ratio:.0f} CPU", flush=True)

    check = binning_check(y, s, a, b, make_folds(y, seed=args.seed), args.check_reps, (1e-2, 1e-3, 1e-4),
                          args.seed + 5)
    d = res.to_dict()
    half = {k: (d["cis"][k][1] - d["cis"][k][0]) / 2 for k in ("auc", "eer", "accuracy")}
    half["tar"] = (d["cis"]["tar_at_far"]["1e-3"][1] - d["cis"]["tar_at_far"]["1e-3"][0]) / 2
    out = {
        "n_pairs": n,
        "n_identities": args.identities,
        "n_bootstrap": args.bootstrap,
        "seconds_no_ci": t_no_ci,
        "seconds_no_ci_before_after": [t_before, t_after],
        "cpu_seconds_no_ci_before_after": [c_before, c_after],
        "cpu_seconds_with_ci": c_ci,
        "cpu_replicates_over_no_ci": cpu_ratio,
        "peak_rss_gib_after_ci": rss_ci,
        "seconds_with_ci": t_ci,
        "replicates_over_no_ci": ratio,
        "with_ci_over_no_ci": t_ci / t_no_ci,
        "legacy_seconds_per_replicate": t_legacy,
        "legacy_replicates_over_no_ci": legacy_ratio,
        "legacy_cpu_replicates_over_no_ci": legacy_cpu_ratio,
        "peak_rss_gib": peak_rss_gib(),
        "load_average": os.getloadavg(),
        "auc": res.auc,
        "cis": d["cis"],
        "ci_variance_factor": d["ci_variance_factor"],
        "binning_check": check,
        "ci_half_widths": half,
        "command": " ".join([os.path.basename(sys.executable), *sys.argv]),
    }
    keys = ("replicates_over_no_ci", "cpu_replicates_over_no_ci", "legacy_replicates_over_no_ci", "peak_rss_gib_after_ci", "binning_check",
            "ci_half_widths")
    print(json.dumps({k: out[k] for k in keys}, indent=1))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(out, indent=1, default=float) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
