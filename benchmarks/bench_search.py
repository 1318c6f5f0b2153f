"""1:N search: facemetric's blocked top-k against bare numpy GEMM + argpartition (and faiss-cpu if installed).

Run from the repository root (about half an hour on 2 shared cores at the default sizes):

    OMP_NUM_THREADS=2 nice -n 5 .venv/bin/python benchmarks/bench_search.py --json out/bench_search.json

Data: a gallery of ``--gallery`` (1,000,000) L2-normalised 512-d float32 descriptors (2 GiB) and
``--probes`` (10,000) probes; probe ``i`` is a noisy copy of gallery row ``7 i``, so that the
results can be checked. Every side searches the top ``--k`` (10) gallery rows of every probe
by cosine and runs in its own fresh process that builds the same data from the same seed, so
its peak resident memory (``ru_maxrss``, the 2 GiB gallery included) is its own:

* ``facemetric``: :func:`facemetric.identification.search.topk_search` with the cosine metric
  (blocked GEMMs under a 256 MiB score budget, a running top-k with segment maxima);
* ``numpy``: for chunks of ``--ref-chunk`` (128) probes, ``Q @ G.T`` then ``np.argpartition`` of
  the whole chunk x gallery score matrix, then a sort of the k best (peak: the gallery plus a
  128 x 1M score matrix and its int64 argpartition);
* ``faiss``: ``faiss.IndexFlatIP`` over the same gallery (``pip install -e '.[bench]'``; skipped when
  faiss is not installed).

Because the machine is shared, the ratio also comes from an ``alternating`` phase: facemetric and
numpy alternate in one process on the first ``--alt-probes`` probes, best of ``--repeats``.
Every side's top-k indices are compared with numpy's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

GIB = 1024**3


def make_data(n_gallery: int, n_probes: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    G = np.empty((n_gallery, dim), dtype=np.float32)
    for lo in range(0, n_gallery, 1 << 16):  # in blocks: no float64 or second 2 GiB temporaries
        block = rng.standard_normal((min(1 << 16, n_gallery - lo), dim), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        G[lo:lo + block.shape[0]] = block
    mates = (7 * np.arange(n_probes)) % n_gallery
    Q = G[mates] + 0.05 * rng.standard_normal((n_probes, dim), dtype=np.float32)
    Q /= np.linalg.norm(Q, axis=1, keepdims=True)
    return G, Q


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def numpy_topk(Q: np.ndarray, G: np.ndarray, k: int, chunk: int) -> np.ndarray:
    """The bare reference: GEMM and argpartition per chunk of probes, then sort the k best."""
    out = np.empty((Q.shape[0], k), dtype=np.int64)
    for lo in range(0, Q.shape[0], chunk):
        S = Q[lo:lo + chunk] @ G.T
        idx = np.argpartition(S, S.shape[1] - k, axis=1)[:, -k:]
        vals = np.take_along_axis(S, idx, 1)
        out[lo:lo + chunk] = np.take_along_axis(idx, np.argsort(-vals, axis=1, kind="stable"), 1)
    return out


def facemetric_topk(Q: np.ndarray, G: np.ndarray, k: int, budget_mib: int) -> np.ndarray:
    from facemetric.identification.search import topk_search
    from facemetric.metrics import make_metric
    from facemetric.templates.scorers import make_set_scorer

    scorer = make_set_scorer(make_metric("cosine").fit(G[:1]))
    return topk_search(scorer, Q, G, k, budget=budget_mib << 20)[1]


def faiss_topk(Q: np.ndarray, G: np.ndarray, k: int) -> np.ndarray:
    import faiss

    faiss.omp_set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    index = faiss.IndexFlatIP(G.shape[1])
    index.add(G)
    return index.search(Q, k)[1]


def agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Share of probes whose top-k index sets are equal (order may differ within float ties)."""
    return float(np.mean([set(x) == set(y) for x, y in zip(a.tolist(), b.tolist())]))


def phase(args) -> dict:
    G, Q = make_data(args.gallery, args.probes, args.dim, args.seed)
    if args.phase in ("facemetric", "alternating"):
        facemetric_topk(Q[:4], G[:1000], args.k, args.budget)  # imports (sklearn, scipy) before any clock starts
    data_rss = peak_rss()
    if args.phase == "alternating":
        Qa = Q[: args.alt_probes]
        best = {"facemetric": np.inf, "numpy": np.inf}
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            facemetric_topk(Qa, G, args.k, args.budget)
            best["facemetric"] = min(best["facemetric"], time.perf_counter() - t0)
            t0 = time.perf_counter()
            numpy_topk(Qa, G, args.k, args.ref_chunk)
            best["numpy"] = min(best["numpy"], time.perf_counter() - t0)
        return {"seconds": best, "probes": int(Qa.shape[0])}
    t0 = time.perf_counter()
    if args.phase == "facemetric":
        idx = facemetric_topk(Q, G, args.k, args.budget)
    elif args.phase == "numpy":
        idx = numpy_topk(Q, G, args.k, args.ref_chunk)
    else:
        idx = faiss_topk(Q, G, args.k)
    seconds = time.perf_counter() - t0
    mates = (7 * np.arange(args.probes)) % args.gallery
    return {"seconds": seconds, "peak_rss": peak_rss(), "data_rss": data_rss, "top1_is_mate": float(np.mean(
        idx[:, 0] == mates)), "check": idx[: args.check].tolist()}


def run(name: str, argv: list[str]) -> dict | None:
    proc = subprocess.run([sys.executable, __file__, "--phase", name, *argv], capture_output=True, text=True,
                          check=False)
    if proc.returncode:
        if name == "faiss" and "No module named 'faiss'" in proc.stderr:
            return None
        sys.exit(f"{name} phase failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def markdown(r: dict) -> str:
    a = r["args"]
    pairs = a["gallery"] * a["probes"]
    lines = [
        f"Gallery {a['gallery']:,} x {a['dim']}-d float32, {a['probes']:,} probes, top-{a['k']}, cosine; "
        f"OMP_NUM_THREADS={r['threads']}.",
        "",
        "| side | seconds | scores/s | ratio to numpy | peak RSS | top-1 = planted mate | same top-k as numpy |",
        "|---|---|---|---|---|---|---|",
    ]
    ref = r["numpy"]["seconds"]
    for name in ("numpy", "facemetric", "faiss"):
        s = r.get(name)
        if s is None:
            lines.append(f"| {name} | not installed | | | | | |")
            continue
        lines.append(f"| {name} | {s['seconds']:.1f} | {pairs / s['seconds']:,.0f} | {ref / s['seconds']:.2f} | "
                     f"{s['peak_rss'] / GIB:.2f} GiB | {s['top1_is_mate']:.4f} | {s.get('agreement', 1.0):.4f} |")
    alt = r["alternating"]
    ratio = alt["seconds"]["numpy"] / alt["seconds"]["facemetric"]
    lines += ["", f"Alternating in one process on {alt['probes']:,} probes (best of {a['repeats']}): facemetric "
              f"{alt['seconds']['facemetric']:.1f} s, numpy {alt['seconds']['numpy']:.1f} s: **ratio "
              f"{ratio:.2f}** (target >= 0.8). Peak memory of facemetric (gallery included): "
              f"**{r['facemetric']['peak_rss'] / GIB:.2f} GiB** (target < 4 GiB)."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gallery", type=int, default=1_000_000)
    parser.add_argument("--probes", type=int, default=10_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=int, default=256, help="facemetric's score budget, MiB")
    parser.add_argument("--ref-chunk", type=int, default=128, help="probes per GEMM + argpartition of numpy")
    parser.add_argument("--alt-probes", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--check", type=int, default=2000, help="probes whose top-k are compared")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--markdown", help="print the table of a results JSON and exit")
    parser.add_argument("--phase", choices=["facemetric", "numpy", "faiss", "alternating"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.markdown:
        with open(args.markdown) as fh:
            print(markdown(json.load(fh)))
        return
    if args.phase:
        print(json.dumps(phase(args)))
        return
    argv = [a for a in sys.argv[1:] if not a.startswith("--json")]
    if args.json:
        argv = [a for a in argv if a != args.json]
    result = {"args": {k: v for k, v in vars(args).items() if k not in ("phase", "json", "markdown")},
              "threads": os.environ.get("OMP_NUM_THREADS", "unset")}
    for name in ("numpy", "facemetric", "faiss", "alternating"):
        print(f"running {name} ...", file=sys.stderr, flush=True)
        result[name] = run(name, argv)
    check = np.asarray(result["numpy"]["check"])
    for name in ("facemetric", "faiss"):
        if result.get(name):
            result[name]["agreement"] = agreement(np.asarray(result[name]["check"]), check)
    for name in ("numpy", "facemetric", "faiss"):
        if result.get(name):
            result[name].pop("check")
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=1)
    print(markdown(result))


if __name__ == "__main__":
    main()
