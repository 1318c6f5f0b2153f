"""Score and evaluate 10 million random pairs of 512-d descriptors; compare with a plain numpy einsum.

Run from the repository root:

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_scoring.py

Each side runs in its own fresh subprocess that builds the same data from the same seed,
so its peak resident memory (``ru_maxrss``, which includes the inputs) is its own:

* ``reference``: L2-normalise once, then ``np.einsum("ij,ij->i", Z[ia], Z[ib])`` chunk by chunk
  (an unchunked einsum would need 2 x 10M x 512 x 4 B = 41 GB of gathered rows);
* ``facemetric``: the library path of ``facemetric evaluate``: a DescriptorSet, a PairProtocol,
  ``score_protocol`` with the Cosine metric, then ``evaluate_scores`` (AUC, 10-fold accuracy with
  stratified folds, EER, TAR@FAR, and a few bootstrap replicates).

It prints pairs/s of both, their ratio (target >= 0.8) and the peak memory (target < 2 GiB).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time

import numpy as np

GIB = 1024**3


def make_data(n_pairs: int, n_ids: int, per_id: int, dim: int, seed: int):
    """Descriptors clustered by identity; half the pairs matched, half mismatched (float32)."""
    rng = np.random.default_rng(seed)
    n = n_ids * per_id
    X = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n_ids, 1000):  # build in blocks to keep the float64 temporaries small
        stop = min(start + 1000, n_ids)
        centres = rng.standard_normal((stop - start, dim), dtype=np.float32)
        block = np.repeat(centres, per_id, axis=0)
        block += 2.5 * rng.standard_normal(block.shape, dtype=np.float32)
        X[start * per_id : stop * per_id] = block
    half = n_pairs // 2
    ia = rng.integers(0, n, n_pairs)
    ident = ia[:half] // per_id
    offset = (ia[:half] % per_id + rng.integers(1, per_id, half)) % per_id
    ib = np.empty(n_pairs, dtype=np.int64)
    ib[:half] = ident * per_id + offset
    ib[half:] = rng.integers(0, n, n_pairs - half)
    y = np.zeros(n_pairs, dtype=np.int8)
    y[:half] = 1
    y[half:] = (ib[half:] // per_id) == (ia[half:] // per_id)
    return X, ia, ib, y


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


class RssSampler:
    """Samples /proc/self/statm every 5 ms as a cross-check of ru_maxrss."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            with open("/proc/self/statm") as fh:
                self.peak = max(self.peak, int(fh.read().split()[1]) * self._page)
            time.sleep(0.005)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def einsum_reference(X: np.ndarray, ia: np.ndarray, ib: np.ndarray, chunk: int) -> tuple[float, np.ndarray]:
    """Seconds and scores of the plain numpy reference: normalise once, einsum chunk by chunk."""
    t0 = time.perf_counter()
    Z = X / np.linalg.norm(X, axis=1, keepdims=True)
    out = np.empty(ia.size, dtype=np.float32)
    for start in range(0, ia.size, chunk):
        sl = slice(start, start + chunk)
        out[sl] = np.einsum("ij,ij->i", Z[ia[sl]], Z[ib[sl]])
    return time.perf_counter() - t0, out


def phase_reference(args) -> dict:
    X, ia, ib, _ = make_data(args.pairs, args.ids, args.per_id, args.dim, args.seed)
    data_rss = peak_rss()
    with RssSampler() as sampler:
        seconds, out = einsum_reference(X, ia, ib, args.ref_chunk)
    return {
        "seconds": seconds,
        "checksum": float(out[:1000].astype(np.float64).sum()),
        "peak_rss": peak_rss(),
        "sampled_rss": sampler.peak,
        "data_rss": data_rss,
    }


def phase_facemetric(args) -> dict:
    from facemetric.metrics.cosine import Cosine
    from facemetric.experiments.driver import SCORING_CHUNK, score_protocol
    from facemetric.types import DescriptorSet, PairProtocol
    from facemetric.verify import evaluate_scores

    X, ia, ib, y = make_data(args.pairs, args.ids, args.per_id, args.dim, args.seed)
    ids = np.char.add("img", np.arange(X.shape[0]).astype(str))
    descriptors = DescriptorSet(X=X, labels=(np.arange(X.shape[0]) // args.per_id).astype(str), ids=ids)
    protocol = PairProtocol(images=ids, pairs=np.stack([ia, ib], axis=1), labels=y, name="random")
    del ia, ib
    data_rss = peak_rss()
    with RssSampler() as sampler:
        # The machine is shared: alternate facemetric and the einsum reference in this one process
        # and keep the best time of each, so that both see the same load.
        t_score, t_ref = np.inf, np.inf
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            scores = score_protocol(
                Cosine().fit(X[:1]), descriptors, protocol, chunk_size=args.chunk or SCORING_CHUNK
            )
            t_score = min(t_score, time.perf_counter() - t0)
            del scores
            t_ref = min(
                t_ref, einsum_reference(X, protocol.pairs[:, 0], protocol.pairs[:, 1], args.ref_chunk)[0]
            )
        scores = score_protocol(
            Cosine().fit(X[:1]), descriptors, protocol, chunk_size=args.chunk or SCORING_CHUNK
        )
        t0 = time.perf_counter()
        result = evaluate_scores(protocol.labels, scores, None, n_bootstrap=args.bootstrap, seed=args.seed)
        t_eval = time.perf_counter() - t0
    return {
        "seconds": t_score,
        "ref_seconds_same_process": t_ref,
        "eval_seconds": t_eval,
        "total_seconds": t_score + t_eval,
        "checksum": float(scores[:1000].sum()),
        "auc": result.auc,
        "accuracy": result.accuracy,
        "eer": result.eer,
        "tar_at_1e-4": result.tar_at_far[1e-4],
        "auc_ci": result.cis.get("auc"),
        "peak_rss": peak_rss(),
        "sampled_rss": sampler.peak,
        "data_rss": data_rss,
    }


def run_phase(name: str, argv: list[str]) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--phase", name, *argv], capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"{name} phase failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10_000_000)
    parser.add_argument("--ids", type=int, default=10_000, help="identities (descriptors = ids x per-id)")
    parser.add_argument("--per-id", type=int, default=10)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chunk", type=int, default=0, help="facemetric chunk (0: library default)")
    parser.add_argument(
        "--ref-chunk", type=int, default=1 << 14, help="pairs per einsum chunk of the reference"
    )
    parser.add_argument("--bootstrap", type=int, default=10, help="bootstrap replicates in the evaluation")
    parser.add_argument("--repeats", type=int, default=2, help="alternating timing rounds (best of)")
    parser.add_argument("--phase", choices=["reference", "facemetric"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        fn = phase_reference if args.phase == "reference" else phase_facemetric
        print(json.dumps(fn(args)))
        return
    argv = [a for a in sys.argv[1:]]
    ref = run_phase("reference", argv)
    fm = run_phase("facemetric", argv)
    n = args.pairs
    t_ref = fm["ref_seconds_same_process"]
    ratio = t_ref / fm["seconds"]
    print(
        f"pairs: {n:,} of {args.dim}-d descriptors over {args.ids * args.per_id:,} images; "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}; best of {args.repeats} alternating rounds"
    )
    print(
        f"numpy einsum reference : {n / t_ref:,.0f} pairs/s ({t_ref:.2f} s); alone in a fresh process "
        f"{n / ref['seconds']:,.0f} pairs/s, peak RSS {ref['peak_rss'] / GIB:.2f} GiB"
    )
    print(
        f"facemetric scoring     : {n / fm['seconds']:,.0f} pairs/s ({fm['seconds']:.2f} s)  "
        f"ratio {ratio:.2f} (target >= 0.8)"
    )
    print(
        f"facemetric evaluation  : {fm['eval_seconds']:.2f} s (AUC, 10-fold accuracy, EER, TAR@FAR, "
        f"{args.bootstrap} bootstrap replicates); scoring + evaluation {n / fm['total_seconds']:,.0f} pairs/s"
    )
    print(
        f"facemetric peak memory : ru_maxrss {fm['peak_rss'] / GIB:.2f} GiB, sampled RSS "
        f"{fm['sampled_rss'] / GIB:.2f} GiB (inputs alone {fm['data_rss'] / GIB:.2f} GiB)  target < 2 GiB"
    )
    print(
        f"figures: AUC {fm['auc']:.4f}, accuracy {fm['accuracy']:.4f}, EER {fm['eer']:.4f}, "
        f"TAR@1e-4 {fm['tar_at_1e-4']:.4f}, AUC CI {fm['auc_ci']}"
    )
    same = abs(ref["checksum"] - fm["checksum"]) < 1e-3
    print(f"same scores as the reference on the first 1000 pairs: {same}")


if __name__ == "__main__":
    main()
