"""Check the neural heads on a CUDA machine: they train there, agree with the CPU, and how much faster.

Run on a machine with a CUDA build of torch (``pip install torch`` from the CUDA index) and facemetric:

    python benchmarks/gpu_check_neural.py                       # synthetic LFW-size set
    python benchmarks/gpu_check_neural.py --descriptors lfw.npz # or real descriptors (identities from labels)

For each head (neural-linear, neural-pose, neural-mlp) it fits once with ``device="cpu"`` and once
with ``device="cuda"`` (same seed, same data), prints the fit times, their ratio, the best epoch
and the validation AUC of both, and the AUC of both on held-out identities. It exits with code 1
when torch sees no CUDA device, when a CUDA fit fails, or when the two held-out AUCs differ by more
than 0.01 (GPU kernels are not bit-identical to CPU ones, so the weights differ slightly).
Writes ``--out`` (default gpu_check_neural.json) with every figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np


def synthetic(n_ids: int = 1500, per_id: int = 8, dim: int = 128, seed: int = 0):
    from facemetric.types import DescriptorSet

    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_ids, dim))
    y = np.repeat(np.arange(n_ids), per_id)
    yaw = np.where(rng.random(y.size) < 0.7, rng.normal(0, 8, y.size), rng.uniform(20, 60, y.size))
    nuisance = np.sin(np.radians(yaw))[:, None] * rng.normal(size=(1, dim)) * 2.0
    X = centres[y] + 0.8 * rng.normal(size=(y.size, dim)) + nuisance
    labels = np.array([f"id{i}" for i in y])
    return DescriptorSet(X=X.astype(np.float32), labels=labels, ids=[f"{a}/{k}.jpg" for k, a in enumerate(labels)],
                         yaw=yaw)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--descriptors", help="descriptor set (.npz/.parquet); default: synthetic")
    parser.add_argument("--methods", default="neural-linear,neural-pose,neural-mlp")
    parser.add_argument("--out", default="gpu_check_neural.json")
    args = parser.parse_args(argv)

    import torch

    from facemetric.io import load_descriptors
    from facemetric.metrics import make_metric
    from facemetric.metrics.sampling import sample_pairs, split_identities
    from facemetric.verify import roc_auc

    if not torch.cuda.is_available():
        print("torch sees no CUDA device: nothing to check (install a CUDA build of torch on a GPU machine)")
        return 1
    ds = load_descriptors(args.descriptors) if args.descriptors else synthetic()
    if ds.X_flip is not None:
        ds = ds.fused("sum")
    train_rows, test_rows = split_identities(ds.labels, 0.2, seed=0)
    train, test = ds.subset(train_rows), ds.subset(test_rows)
    ia, ib, same = sample_pairs(test.labels, 20000, seed=1)
    rows = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "n_train": len(train), "heads": []}
    failed = False
    for name in args.methods.split(","):
        entry = {"method": name}
        for device in ("cpu", "cuda"):
            metric = make_metric(name, device=device, progress=False)
            t0 = time.perf_counter()
            try:
                metric.fit_descriptors(train)
            except Exception as exc:  # noqa: BLE001 - reported, then the check fails
                entry[device] = {"error": f"{type(exc).__name__}: {exc}"}
                failed = True
                continue
            seconds = time.perf_counter() - t0
            scores = metric.score_pairs(test.X, ia, ib)
            entry[device] = {"fit_seconds": round(seconds, 3), "device_used": metric.device_,
                             "best_epoch": metric.best_epoch_, "val_auc": float(np.max(metric.history_)),
                             "test_auc": float(roc_auc(same, scores))}
        if "fit_seconds" in entry.get("cpu", {}) and "fit_seconds" in entry.get("cuda", {}):
            entry["cpu_over_cuda_time"] = round(entry["cpu"]["fit_seconds"] / entry["cuda"]["fit_seconds"], 2)
            entry["test_auc_difference"] = abs(entry["cpu"]["test_auc"] - entry["cuda"]["test_auc"])
            failed |= entry["test_auc_difference"] > 0.01 or entry["cuda"]["device_used"] != "cuda"
        rows["heads"].append(entry)
        print(json.dumps(entry))
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(rows, fh, indent=2)
    print(f"written to {args.out}; {'FAILED' if failed else 'ok'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
