"""95% AUC intervals on LFW View 2 (cosine, reference descriptors): pair-level, identity-level and
fold-level bootstrap, DeLong, and the spread of the 10 per-fold AUCs.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/lfw_interval_widths.py --out runs/lfw_interval_widths.json

Identities come from the descriptor labels (the LFW names), as ``facemetric evaluate`` takes them.
Prints a Markdown table (the one in docs/evaluation.md) from the JSON it writes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.stats import norm

from facemetric.io import load_descriptors, load_protocol
from facemetric.metrics import make_metric
from facemetric.verify import evaluate_scores, roc_auc
from facemetric.verify.delong import delong_auc
from facemetric.verify.guard import protocol_identities

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "lfw"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA, help="folder with pairs.txt and the descriptors")
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    ds = load_descriptors(args.data / "descriptors_mobilefacenet_112x96.npz").fused("sum")
    protocol = load_protocol(args.data / "pairs.txt")
    ia, ib = protocol.resolve(ds)
    metric = make_metric("cosine").fit(ds.X[:1])
    y, s = protocol.labels, metric.pair_score(ds.X[ia], ds.X[ib])
    ident = protocol_identities(protocol, ds)
    groups = (ident[protocol.pairs[:, 0]], ident[protocol.pairs[:, 1]])
    z = norm.ppf(0.975)
    rows = []
    tar = {}
    names = {"pair": "pairs", "identity": "identities", "fold": "folds"}
    for resample in ("pair", "identity", "fold"):
        res = evaluate_scores(y, s, protocol.folds, groups=groups, resample=resample,
                              n_bootstrap=args.bootstrap, seed=args.seed).to_dict()
        lo, hi = res["cis"]["auc"]
        rows.append({"method": f"bootstrap, {names[resample]} resampled", "units": res["n_resample_units"],
                     "lo": lo, "hi": hi, "width": hi - lo,
                     "variance_factor": res["ci_variance_factor"].get("auc", 1.0)})
        tar[resample] = res["cis"]["tar_at_far"]["1e-3"]
        auc = res["auc"]
        accuracy = (res["accuracy"], res["accuracy_std"], res["accuracy_se"], res["cis"]["accuracy"])
    d = delong_auc(y, s)
    rows.append({"method": "DeLong (pairs independent)", "units": int(y.size), "lo": d.ci[0], "hi": d.ci[1],
                 "width": d.ci[1] - d.ci[0]})
    folds = np.unique(protocol.folds)
    per_fold = np.array([roc_auc(y[protocol.folds == k], s[protocol.folds == k]) for k in folds])
    se = per_fold.std(ddof=1) / np.sqrt(folds.size)
    rows.append({"method": "spread of the 10 per-fold AUCs (mean ± 1.96 SE)", "units": int(folds.size),
                 "lo": per_fold.mean() - z * se, "hi": per_fold.mean() + z * se, "width": 2 * z * se})
    pair_width = rows[0]["width"]
    for r in rows:
        r["width_vs_pair"] = r["width"] / pair_width
    out = {"auc": auc, "rows": rows, "tar_at_far_1e-3_ci": tar, "accuracy": accuracy,
           "n_bootstrap": args.bootstrap, "seed": args.seed}
    lines = [f"AUC {auc:.5f}", "", "| interval | units | 95% interval | width | width / pair-level |",
             "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['method']} | {r['units']:,} | [{r['lo']:.5f}, {r['hi']:.5f}] | {r['width']:.5f} | "
                     f"{r['width_vs_pair']:.2f} |")
    lines += ["", "TAR@FAR=1e-3 intervals: " + ", ".join(
        f"{k} [{100 * v[0]:.2f}, {100 * v[1]:.2f}]" for k, v in tar.items())]
    lines.append(f"accuracy {100 * accuracy[0]:.2f}% ± {100 * accuracy[2]:.2f} (SE), std {100 * accuracy[1]:.2f}")
    print("\n".join(lines))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
