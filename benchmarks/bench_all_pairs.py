"""All-vs-all verification: facemetric's streamed TAR@FAR against a bare GEMM over the same pairs.

Run from the repository root:

    OMP_NUM_THREADS=2 nice -n 5 .venv/bin/python benchmarks/bench_all_pairs.py --json out/bench_all_pairs.json

Data: ``--images`` (20,000) 512-d float32 descriptors of ``--ids`` (2,000) identities, i.e. 200 M
pairs. In one process, alternating, best of ``--repeats``:

* ``gemm``: the bare matrix products of the same upper-triangle blocks (``--block`` rows by
  columns, L2-normalised rows), scores discarded: the floor any all-pairs evaluation pays;
* ``facemetric``: :func:`facemetric.verify.all_pairs.all_pairs_tar_at_far` with cosine: the same
  products, plus the genuine scores, the impostor histogram and the exact impostor tail;
* ``facemetric, no histogram``: the same without the histogram (exact TAR@FAR, no curve or AUC).

Exactness: on the first ``--check-images`` (3,000: 4.5 M pairs) the streamed TAR@FAR is compared
with :func:`facemetric.verify.curves.tar_at_far` over every stored pair score. With the LFW
reference descriptors present (``--lfw``), all 87.5 M LFW pairs are evaluated too.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
LFW = REPO.parent / "shared" / "data" / "lfw" / "descriptors_mobilefacenet_112x96.npz"


def make_data(n: int, n_ids: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_ids, n)
    X = rng.standard_normal((n_ids, dim), dtype=np.float32)[y] + 2.2 * rng.standard_normal((n, dim), dtype=np.float32)
    return X, np.char.add("id", y.astype(str))


def bare_gemm(Z: np.ndarray, block: int) -> float:
    t0 = time.perf_counter()
    n = Z.shape[0]
    for i0 in range(0, n, block):
        for j0 in range(i0, n, block):
            np.matmul(Z[i0:i0 + block], Z[j0:j0 + block].T)
    return time.perf_counter() - t0


def main() -> None:
    from facemetric.metrics import make_metric
    from facemetric.verify.all_pairs import all_pairs_tar_at_far
    from facemetric.verify.curves import far_key, tar_at_far

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--ids", type=int, default=2_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--block", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--check-images", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lfw", default=str(LFW), help="LFW reference descriptors (skipped when absent)")
    parser.add_argument("--json")
    parser.add_argument("--markdown", help="print the tables of a results JSON and exit")
    args = parser.parse_args()
    if args.markdown:
        print(markdown(json.loads(Path(args.markdown).read_text())))
        return
    X, y = make_data(args.images, args.ids, args.dim, args.seed)
    metric = make_metric("cosine").fit(X[:1])
    Z = metric.prepare(X)
    n_pairs = args.images * (args.images - 1) // 2
    best = {"gemm": np.inf, "facemetric": np.inf, "no_histogram": np.inf}
    for _ in range(args.repeats):
        best["gemm"] = min(best["gemm"], bare_gemm(Z, args.block))
        t0 = time.perf_counter()
        result = all_pairs_tar_at_far(metric, X, y, block=args.block)
        best["facemetric"] = min(best["facemetric"], time.perf_counter() - t0)
        t0 = time.perf_counter()
        lean = all_pairs_tar_at_far(metric, X, y, block=args.block, histogram=False)
        best["no_histogram"] = min(best["no_histogram"], time.perf_counter() - t0)
        assert lean.tar_at_far == result.tar_at_far
    out = {"args": vars(args), "threads": os.environ.get("OMP_NUM_THREADS", "unset"), "n_pairs": n_pairs,
           "seconds": best, "synthetic": result.to_dict()}
    Xc, yc = X[: args.check_images], y[: args.check_images]
    streamed = all_pairs_tar_at_far(metric, Xc, yc, block=args.block)
    order = np.argsort(yc, kind="stable")
    Zc = metric.prepare(Xc[order])
    ia, ib = np.triu_indices(len(yc), 1)
    exact = tar_at_far((yc[order][ia] == yc[order][ib]).astype(int), (Zc @ Zc.T)[ia, ib])
    out["check"] = {"n_pairs": int(ia.size), "exact": {far_key(f): v for f, v in exact.items()},
                    "streamed": streamed.to_dict()["tar_at_far"]}
    if Path(args.lfw).exists():
        from facemetric.io import load_descriptors

        lfw = load_descriptors(args.lfw).fused("sum")
        t0 = time.perf_counter()
        res = all_pairs_tar_at_far(metric, lfw.X, lfw.labels, block=args.block)
        out["lfw"] = {**res.to_dict(), "seconds": time.perf_counter() - t0}
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=1))
    print(markdown(out))


def _pct(v):
    return "n/a" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{100 * v:.3f}%"


def markdown(r: dict) -> str:
    a, s = r["args"], r["seconds"]
    lines = [
        f"{a['images']:,} images of {a['ids']:,} identities, {a['dim']}-d, cosine, blocks of {a['block']}: "
        f"{r['n_pairs']:,} pairs; OMP_NUM_THREADS={r['threads']}; best of {a['repeats']} alternating rounds.", "",
        "| side | seconds | pairs/s | ratio to the bare GEMM |", "|---|---|---|---|",
        f"| bare GEMM (scores discarded) | {s['gemm']:.1f} | {r['n_pairs'] / s['gemm']:,.0f} | 1.00 |",
        f"| facemetric all-pairs (histogram + exact tail) | {s['facemetric']:.1f} | "
        f"{r['n_pairs'] / s['facemetric']:,.0f} | **{s['gemm'] / s['facemetric']:.2f}** |",
        f"| facemetric all-pairs, no histogram (exact TAR@FAR only) | {s['no_histogram']:.1f} | "
        f"{r['n_pairs'] / s['no_histogram']:,.0f} | **{s['gemm'] / s['no_histogram']:.2f}** |", "",
        "| FAR | TAR (200 M pairs) | exact | check set: exact over stored scores | check set: streamed |",
        "|---|---|---|---|---|",
    ]
    syn, chk = r["synthetic"], r["check"]
    for key in syn["tar_at_far"]:
        lines.append(f"| {key} | {_pct(syn['tar_at_far'][key])} | {syn['exact'][key]} | {_pct(chk['exact'][key])} | "
                     f"{_pct(chk['streamed'][key])} |")
    lines.append(f"\nCheck set: {chk['n_pairs']:,} pairs; streamed equals exact at every FAR: "
                 f"**{all(chk['exact'][k] == chk['streamed'][k] for k in chk['exact'])}**.")
    if "lfw" in r:
        lfw = r["lfw"]
        lines += ["", f"LFW reference descriptors (emb + emb_flip), all {lfw['n_pairs']:,} pairs "
                  f"({lfw['n_genuine']:,} genuine), cosine, {lfw['seconds']:.1f} s: "
                  + ", ".join(f"TAR@FAR={k} {_pct(v)}" for k, v in lfw["tar_at_far"].items())
                  + f"; AUC {lfw['auc']:.5f}."]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
