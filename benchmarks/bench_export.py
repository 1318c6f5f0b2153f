"""ONNX export: onnxruntime running the exported graphs against the library's numpy scoring, same run.

Run from the repository root:

    OMP_NUM_THREADS=2 nice -n 5 .venv/bin/python benchmarks/bench_export.py --json out/bench_export.json

For each method (fitted on ``--train`` synthetic 512-d descriptors of 500 identities), the same
``--pairs`` (200,000) pairs are scored by ``metric.pair_score`` (numpy) and by the exported
``a, b -> score`` graph in onnxruntime (2 intra-op threads), in batches of ``--batch``, alternating,
best of ``--repeats``; the largest absolute difference is reported (target <= 1e-4). With the
shared MobileFaceNet ONNX model present, the fused backbone + WCCN embedding (flip sum) is timed
per face against the backbone run twice in onnxruntime followed by ``metric.transform``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
BACKBONE = REPO.parent / "shared" / "data" / "models" / "mobilefacenet_arcface_112.onnx"
METHODS = {"cosine": {}, "wccn": {}, "lda": {}, "kissme": {}, "plda": {},
           "as-norm": {"metric": "plda", "cohort_size": 1000, "top_k": 100}}


def session(model_or_path, threads: int):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    data = model_or_path if isinstance(model_or_path, str) else model_or_path.SerializeToString()
    return ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])


def best_of(fn, repeats: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    from facemetric.export.onnx_model import fused_model, score_model
    from facemetric.metrics import make_metric

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200_000)
    parser.add_argument("--train", type=int, default=5000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--batch", type=int, default=16384)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--faces", type=int, default=100)
    parser.add_argument("--json")
    parser.add_argument("--markdown")
    args = parser.parse_args()
    if args.markdown:
        print(markdown(json.loads(Path(args.markdown).read_text())))
        return
    threads = int(os.environ.get("OMP_NUM_THREADS", "2"))
    rng = np.random.default_rng(0)
    y = rng.integers(0, 500, args.train)
    X = (rng.standard_normal((500, args.dim))[y] + 1.5 * rng.standard_normal((args.train, args.dim))).astype(np.float32)
    A = rng.standard_normal((args.pairs, args.dim)).astype(np.float32)
    B = (A + 2.0 * rng.standard_normal((args.pairs, args.dim))).astype(np.float32)
    out = {"args": vars(args), "threads": threads, "methods": {}}
    for name, params in METHODS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            metric = make_metric(name, **params).fit(X, y.astype(str))
        sess = session(score_model(metric), threads)

        def lib(metric=metric):
            return np.concatenate([metric.pair_score(A[i:i + args.batch], B[i:i + args.batch])
                                   for i in range(0, args.pairs, args.batch)])

        def onnx(sess=sess):
            return np.concatenate([sess.run(None, {"a": A[i:i + args.batch], "b": B[i:i + args.batch]})[0]
                                   for i in range(0, args.pairs, args.batch)])

        t_lib = t_onnx = np.inf
        for _ in range(args.repeats):  # alternate, so that both see the same load
            t, ref = best_of(lib, 1)
            t_lib = min(t_lib, t)
            t, got = best_of(onnx, 1)
            t_onnx = min(t_onnx, t)
        out["methods"][name] = {"library_s": t_lib, "onnx_s": t_onnx, "max_abs_diff": float(np.abs(got - ref).max()),
                                "max_abs_score": float(np.abs(ref).max())}
    if BACKBONE.exists():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wccn = make_metric("wccn").fit(X[:, :128], y.astype(str))
        fused = session(fused_model(wccn, BACKBONE, "sum"), threads)
        alone = session(str(BACKBONE), threads)
        faces = rng.uniform(-1, 1, (args.faces, 1, 3, 112, 112)).astype(np.float32)

        def two_step():
            return np.concatenate([wccn.transform(alone.run(None, {"input0": f})[0]
                                                  + alone.run(None, {"input0": f[..., ::-1].copy()})[0]) for f in faces])

        def one_model():
            return np.concatenate([fused.run(None, {"image": f})[0] for f in faces])

        t_two, ref = best_of(two_step, args.repeats)
        t_one, got = best_of(one_model, args.repeats)
        out["backbone"] = {"two_step_ms": 1e3 * t_two / args.faces, "fused_ms": 1e3 * t_one / args.faces,
                           "max_abs_diff": float(np.abs(got - ref).max())}
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=1))
    print(markdown(out))


def markdown(r: dict) -> str:
    a = r["args"]
    lines = [f"{a['pairs']:,} pairs of {a['dim']}-d descriptors, batches of {a['batch']:,}, {r['threads']} threads, "
             f"best of {a['repeats']} alternating rounds.", "",
             "| method | numpy pairs/s | onnxruntime pairs/s | ratio onnx / numpy | max abs difference | max abs score |",
             "|---|---|---|---|---|---|"]
    for name, m in r["methods"].items():
        lines.append(f"| {name} | {a['pairs'] / m['library_s']:,.0f} | {a['pairs'] / m['onnx_s']:,.0f} | "
                     f"{m['library_s'] / m['onnx_s']:.2f} | {m['max_abs_diff']:.1e} | {m['max_abs_score']:.1f} |")
    if "backbone" in r:
        b = r["backbone"]
        lines += ["", f"Backbone + WCCN embedding, flip sum, one face at a time: fused model {b['fused_ms']:.2f} ms per "
                  f"face, backbone twice in onnxruntime then numpy {b['two_step_ms']:.2f} ms (ratio "
                  f"{b['two_step_ms'] / b['fused_ms']:.2f}); max abs difference {b['max_abs_diff']:.1e}."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
