"""Sanity check of the learned metrics on the real LFW descriptors (View 2, identity-disjoint).

For each of the 10 folds of View 2, every method is fitted on all images of the identities
that appear in the 9 other folds (and not in this fold), then scores this fold's 600 pairs.
The AUC is computed over the 6,000 pooled scores of each method after per-fold z-scoring
(so one fold's score scale does not tilt the pooled ROC) and also as the mean of the
10 per-fold AUCs. The official runner is ``facemetric benchmark``; this is a check of the
metric implementations.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/lfw_metrics_check.py \\
        [--methods a,b] [--param name.key=value]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from facemetric.io import load_descriptors
from facemetric.metrics import METHODS, make_metric

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "lfw"


def read_view2(path: Path) -> tuple[list[tuple[str, str]], np.ndarray, np.ndarray]:
    lines = path.read_text().strip().splitlines()
    n_folds, n_per = (int(v) for v in lines[0].split())
    pairs, labels, folds = [], [], []
    for i, line in enumerate(lines[1:]):
        parts = line.split()
        if len(parts) == 3:
            a = f"{parts[0]}/{parts[0]}_{int(parts[1]):04d}.jpg"
            b = f"{parts[0]}/{parts[0]}_{int(parts[2]):04d}.jpg"
            lab = 1
        else:
            a = f"{parts[0]}/{parts[0]}_{int(parts[1]):04d}.jpg"
            b = f"{parts[2]}/{parts[2]}_{int(parts[3]):04d}.jpg"
            lab = 0
        pairs.append((a, b))
        labels.append(lab)
        folds.append(i // (2 * n_per))
    return pairs, np.array(labels), np.array(folds)


def parse_params(items: list[str]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for item in items:
        key, value = item.split("=", 1)
        method, name = key.split(".", 1)
        out.setdefault(method, {})[name] = json.loads(value)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", default=",".join(m for m in METHODS if not m.startswith("ml-")))
    ap.add_argument("--param", action="append", default=[], help="method.key=json_value")
    args = ap.parse_args(argv)
    params = parse_params(args.param)

    ds = load_descriptors(SHARED / "descriptors_mobilefacenet_112x96.npz").fused("sum")
    pairs, labels, folds = read_view2(SHARED / "pairs.txt")
    ia = ds.index_of([a for a, _ in pairs])
    ib = ds.index_of([b for _, b in pairs])
    people = ds.labels
    fold_people = [set(people[ia[folds == f]]) | set(people[ib[folds == f]]) for f in range(10)]

    rows = []
    for name in args.methods.split(","):
        t0 = time.time()
        pooled = np.empty(labels.size)
        per_fold = []
        for f in range(10):
            train_people = set().union(*(fold_people[g] for g in range(10) if g != f)) - fold_people[f]
            train = np.flatnonzero(np.isin(people, sorted(train_people)))
            metric = make_metric(name, **params.get(name, {}))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                metric.fit(ds.X[train], people[train])
            sel = folds == f
            s = metric.pair_score(ds.X[ia[sel]], ds.X[ib[sel]])
            per_fold.append(roc_auc_score(labels[sel], s))
            pooled[sel] = (s - s.mean()) / (s.std() + 1e-12)
        auc = roc_auc_score(labels, pooled)
        rows.append((name, auc, float(np.mean(per_fold)), time.time() - t0))
        print(f"{name:12s} pooled AUC {auc:.5f}  1-AUC {1 - auc:.5f}  mean fold AUC {np.mean(per_fold):.5f}  "
              f"({time.time() - t0:.1f}s)", flush=True)
    base = dict((r[0], r) for r in rows).get("cosine")
    if base:
        print("\nmethod        1-AUC(pooled)  change vs cosine   1-AUC(mean fold)  change")
        for name, auc, mf, _ in rows:
            print(f"{name:12s}  {1 - auc:.5f}        {100 * ((1 - auc) / (1 - base[1]) - 1):+6.1f}%        "
                  f"{1 - mf:.5f}          {100 * ((1 - mf) / (1 - base[2]) - 1):+6.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
