"""Scale-out overhead: 10M pairs of 512-d descriptors scored on a Dask LocalCluster vs one process.

Scores the same pairs twice in one run: ``PairMetric.score_pairs`` in this process (the
reference) and :func:`facemetric.scale.score_pairs_on_dask` on a LocalCluster of ``--workers``
worker processes on 127.0.0.1. Checks that the two score vectors are bit-identical and prints
wall times and their ratio. On a machine with as many cores as workers there is no speed-up
to expect; the point is that the result is identical and the overhead bounded.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_scale.py            # 10M pairs, 2 workers
    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_scale.py --pairs 1000000 --method lda
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from facemetric.metrics import METHODS
from facemetric.scale import dask_client, score_pairs_on_dask
from facemetric.experiments.driver import SCORING_CHUNK


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10_000_000)
    parser.add_argument("--rows", type=int, default=20_000, help="descriptors (rows)")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--method", default="cosine", help="a METHODS name; learned ones are fitted on 50 ids")
    parser.add_argument("--partition-size", type=int, default=1 << 20)
    parser.add_argument("--chunk-size", type=int, default=SCORING_CHUNK)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    X = rng.standard_normal((args.rows, args.dim), dtype=np.float32)
    y = rng.integers(0, 50, args.rows).astype(str)
    ia = rng.integers(0, args.rows, args.pairs, dtype=np.int64)
    ib = rng.integers(0, args.rows, args.pairs, dtype=np.int64)
    metric = METHODS[args.method]()
    metric.fit(X, y) if metric.needs_labels else metric.fit(X[:1])
    print(f"{args.pairs:,} pairs, {args.rows:,} x {args.dim} float32 descriptors, method {args.method}, "
          f"chunk {args.chunk_size:,}, partition {args.partition_size:,}, {os.cpu_count()} CPU cores, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")

    t0 = time.perf_counter()
    reference = metric.score_pairs(X, ia, ib, chunk_size=args.chunk_size)
    t_single = time.perf_counter() - t0
    print(f"single process score_pairs:        {t_single:8.2f} s  ({args.pairs / t_single / 1e6:.2f} M pairs/s)")

    t0 = time.perf_counter()
    with dask_client(workers=args.workers, processes=True) as client:
        t_start = time.perf_counter() - t0
        t1 = time.perf_counter()
        scores = score_pairs_on_dask(client, metric, X, ia, ib, partition_size=args.partition_size,
                                     chunk_size=args.chunk_size)
        t_dask = time.perf_counter() - t1
    t_total = time.perf_counter() - t0
    print(f"LocalCluster start ({args.workers} workers):    {t_start:8.2f} s")
    print(f"Dask scoring (scatter + tasks):    {t_dask:8.2f} s  ({args.pairs / t_dask / 1e6:.2f} M pairs/s)")
    print(f"Dask total incl. start/close:      {t_total:8.2f} s")
    identical = bool(np.array_equal(scores, reference))
    print(f"identical to single process: {identical}")
    print(f"ratio dask scoring / single: {t_dask / t_single:.2f}x;  incl. cluster start: {t_total / t_single:.2f}x")
    if not identical:
        raise SystemExit("scores differ from the single-process reference")


if __name__ == "__main__":
    main()
