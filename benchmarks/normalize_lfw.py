"""Sanity check of the neural heads and score normalisations on the LFW descriptors (View 2).

For each chosen test fold, every method is fitted on the descriptors of all identities that do
not appear in that fold's pairs (identity-disjoint), then scores the fold's 600 pairs; AUC is
computed on the pooled scores of the chosen folds. With several folds the change against cosine is the
mean of the per-fold changes and its p-value the sign-flip test over the folds (each fold has its own
model: docs/protocols.md, "One k-fold rule"). Descriptors are ``emb + emb_flip``.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/normalize_lfw.py --folds 9
    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/normalize_lfw.py --folds 0-9 --methods cheap
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from facemetric.io import load_descriptors, load_protocol
from facemetric.metrics import make_metric
from facemetric.experiments.driver import fold_training_rows, score_index_pairs
from facemetric.verify.fold_comparison import compare_per_fold
from facemetric.verify import paired_test

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "lfw"

CHEAP = {
    "cosine": {"method": "cosine"},
    "center (train mean)": {"method": "center"},
    "z-norm(cosine)": {"method": "z-norm"},
    "t-norm(cosine)": {"method": "t-norm"},
    "s-norm(cosine)": {"method": "s-norm"},
    "as-norm(cosine)": {"method": "as-norm"},
    "test-center(cosine) [T]": {"method": "test-center"},
    "k-reciprocal(cosine) [T]": {"method": "k-reciprocal"},
    "as-norm(center)": {"method": "as-norm", "metric": "center"},
    "test-center(as-norm) [T]": {"method": "test-center", "metric": "as-norm"},
    "k-reciprocal(as-norm) [T]": {"method": "k-reciprocal", "metric": "as-norm"},
    "k-reciprocal(test-center) [T]": {"method": "k-reciprocal", "metric": "test-center"},
    "fusion(cosine, as-norm, lda)": {"method": "fusion", "metrics": ["cosine", "as-norm", "lda"]},
}
NEURAL = {
    "neural-linear multi-similarity": {"method": "neural-linear", "loss": "multi-similarity", "n_threads": 2},
    "neural-linear arcface": {"method": "neural-linear", "loss": "arcface", "n_threads": 2},
    "neural-mlp multi-similarity": {"method": "neural-mlp", "loss": "multi-similarity", "n_threads": 2},
    "neural-mlp arcface": {"method": "neural-mlp", "loss": "arcface", "n_threads": 2},
}


def parse_folds(text: str) -> list[int]:
    if "-" in text:
        a, b = text.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(t) for t in text.split(",")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", default="9", help="test folds, e.g. 9 or 0-9")
    ap.add_argument("--methods", default="all", help="all, cheap, neural, or comma-separated names")
    ap.add_argument("--json", default=None, help="write the rows as JSON here")
    args = ap.parse_args()
    warnings.filterwarnings("ignore", message=".*fewer than 2 images")  # LFW has many one-image people
    table = {**CHEAP, **NEURAL}
    if args.methods == "cheap":
        table = dict(CHEAP)
    elif args.methods == "neural":
        table = {"cosine": CHEAP["cosine"], **NEURAL}
    elif args.methods != "all":
        table = {k: table[k] for k in args.methods.split(",")}
    table = {"cosine": CHEAP["cosine"], **table}  # the reference comes first

    ds = load_descriptors(DATA / "descriptors_mobilefacenet_112x96.npz").fused("sum")
    protocol = load_protocol(DATA / "pairs.txt")
    ia_all, ib_all = protocol.resolve(ds)
    folds = parse_folds(args.folds)
    rows = []
    reference = None
    for name, spec in table.items():
        scores, labels, fold_of, fit_s = [], [], [], 0.0
        for fold in folds:
            sel = protocol.folds == fold
            ia, ib = ia_all[sel], ib_all[sel]
            train = fold_training_rows(ds.labels, np.concatenate([ia, ib]))
            params = dict(spec)
            metric = make_metric(params.pop("method"), **params)
            t0 = time.perf_counter()
            metric.fit(ds.X[train], ds.labels[train])
            fit_s += time.perf_counter() - t0
            scores.append(score_index_pairs(metric, ds.X, ia, ib))
            labels.append(protocol.labels[sel])
            fold_of.append(np.full(int(sel.sum()), fold))
        s, y, f = np.concatenate(scores), np.concatenate(labels), np.concatenate(fold_of)
        auc = float(roc_auc_score(y, s))
        row = {"method": name, "auc": auc, "one_minus_auc": 1 - auc, "transductive": bool(metric.transductive),
               "fit_seconds_per_fold": fit_s / len(folds)}
        if reference is None:
            reference = s
        elif len(folds) > 1:  # one model per fold: compare per fold, paired (docs/protocols.md, "One k-fold rule")
            cmp = compare_per_fold(y, s, reference, f)
            row["one_minus_auc_change_pct"], row["one_minus_auc_change_se"] = 100 * cmp.mean, 100 * cmp.se
            row["p_value_vs_cosine"] = cmp.p_value
        else:  # one fold, one model: paired bootstrap of the AUC difference against cosine, same pairs
            test = paired_test(y, s, reference, n_bootstrap=1000, seed=0)
            row["p_value_vs_cosine"] = test.p_value
            row["auc_diff_ci"] = list(test.ci)
        if hasattr(metric, "best_epoch_"):
            row["best_epoch"] = metric.best_epoch_
            row["val_auc"] = [round(float(v), 5) for v in metric.history_]
        rows.append(row)
        ref = rows[0]["one_minus_auc"]
        change = row.get("one_minus_auc_change_pct", 100 * ((1 - auc) / ref - 1))  # per-fold mean with several folds
        print(f"{name:40s} AUC {auc:.5f}  1-AUC {1 - auc:.5f}  change {change:+6.1f}%  "
              f"T={row['transductive']!s:5s} fit {row['fit_seconds_per_fold']:.1f}s"
              + (f" p={row['p_value_vs_cosine']:.3f}" if "p_value_vs_cosine" in row else "")
              + (f" best_epoch {row['best_epoch']}" if "best_epoch" in row else ""), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"folds": folds, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
