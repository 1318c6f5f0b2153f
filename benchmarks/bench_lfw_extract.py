"""Images to descriptors on LFW: 10-fold View 2 accuracy (cosine) and pipeline speed, as ratios.

Accuracy: the images used by View 2 pairs.txt (7,701 of LFW's 13,233, to save time) go through
``facemetric.extract`` with each configuration; descriptors (plus the flipped crop's when
flip is on, summed) are scored with cosine and evaluated with the official 10 folds.
For scrfd, images where the detector finds no usable face fall back to the given MTCNN landmarks
with the same embedder (counted in the table); the strict figure without fallback is printed too.
The dlib configurations (dlib HOG at upsample 0, then 1 where 0 finds nothing, and dlib's own
get_face_chip; "dlibflip" adds flip fusion) never use the MTCNN points: their fallback is dlib's
own LFW advice, the shape predictor on a centred box; their headline figure is the strict one.

Speed (on ``--speed-images`` images, measured in the same run): pipeline throughput (faces/s,
worker processes, cache on) against calling the bare models in one loop on the same images
(pre-loaded images for detection, pre-aligned crops for the embedder), and detection ms per
250x250 image.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_lfw_extract.py --workers 2

Results are cached under --work (default runs/bench_extract), so a stopped run resumes.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FACEMETRIC_SHARED", REPO.parent / "shared")) / "data"


# ---- detector builders (module level, so worker processes can rebuild them) ------------------

def scrfd_detector(model: str, canvas: str = "", threads: int | None = 1):
    """SCRFD as ``--detector scrfd:MODEL[@canvas]`` builds it (the library's defaults when ``canvas`` is empty)."""
    from facemetric.detect import make_detector

    return make_detector(f"scrfd:{model}" + (f"@{canvas}" if canvas else ""), threads=threads)


def dlib_detector(upsample=0):
    from facemetric.detect.dlib_hog import DlibHogDetector
    from facemetric.detect.padded import PaddedDetector

    return PaddedDetector(DlibHogDetector(upsample=upsample), 0.25)


def dlib_center_box_detector(upsample="0,1", center_box: float = 0.42):
    """For images where dlib finds no face: dlib's own LFW advice, a centred box for the shape predictor
    (0.42 x the image side = the median HOG box width on the LFW images where HOG finds the face)."""
    from facemetric.detect.dlib_hog import DlibHogDetector

    return DlibHogDetector(upsample=upsample, center_box=center_box)


def configs(models: Path, lfw: Path, scrfd_size: str) -> dict[str, dict]:
    onnx = f"onnx:{models / 'mobilefacenet_arcface_112.onnx'}"
    landmarks = f"landmarks:{lfw / 'landmarks_mtcnn_5pt.txt'}"
    return {
        "scrfd+mobilefacenet": dict(
            detector=functools.partial(scrfd_detector, str(models / "scrfd_2.5g_bnkps.onnx"), scrfd_size),
            detector_label=f"scrfd_2.5g_bnkps.onnx@{scrfd_size or 'default'}", embedder=onnx, flip=True),
        "mtcnn-landmarks+mobilefacenet": dict(
            detector=landmarks, detector_label="given MTCNN 5 points", embedder=onnx, flip=True),
        "dlib+dlib": dict(
            detector=functools.partial(dlib_detector, "0,1"),
            detector_label="dlib HOG (upsample 0, then 1 if no face; pad 0.25), dlib's get_face_chip from 68 points",
            embedder="dlib", flip=False, fallback=dlib_center_box_detector,
            fallback_label="centre box"),
        "dlibflip+dlib": dict(
            detector=functools.partial(dlib_detector, "0,1"),
            detector_label="as dlib+dlib, with flip fusion (chip + mirrored chip descriptors summed)",
            embedder="dlib", flip=True, fallback=dlib_center_box_detector, fallback_label="centre box"),
    }


def view2(lfw: Path, folds: list[int]):
    """The View 2 protocol restricted to ``folds``, and its images ordered by the first fold that uses
    them, so that a stopped run has finished whole folds (evaluate those with --folds)."""
    from facemetric.extract.inputs import ImageItem, label_of
    from facemetric.io import load_protocol

    protocol = load_protocol(lfw / "pairs.txt", format="lfw")
    protocol = protocol.subset(np.flatnonzero(np.isin(protocol.folds, folds)))
    first_fold: dict[str, int] = {}
    for a, b, f in zip(protocol.a, protocol.b, protocol.folds):
        for i in (a, b):
            first_fold.setdefault(str(i), int(f))
    ids = sorted(first_fold, key=lambda i: (first_fold[i], i))
    items = [ImageItem(id=i, path=lfw / "images" / i, label=label_of(i)) for i in ids]
    return protocol, items


def progress_printer(name: str):
    state = {"t": 0.0}

    def show(done: int, total: int) -> None:
        now = time.time()
        if now - state["t"] > 30 or done == total:
            state["t"] = now
            print(f"  [{name}] {done}/{total}", flush=True)

    return show


def run_config(name: str, cfg: dict, items, lfw: Path, work: Path, workers: int) -> dict:
    from facemetric.extract import PipelineSpec, extract_to_file

    spec = PipelineSpec(detector=cfg["detector"], embedder=cfg["embedder"], flip=cfg["flip"], policy="central",
                        threads=1)
    t0 = time.perf_counter()
    result, report = extract_to_file(items, spec, work / f"{name}.npz", cache_dir=work / f"{name}.cache",
                                     workers=workers, batch_size=16, on_progress=progress_printer(name))
    seconds = time.perf_counter() - t0
    ds = result.descriptors
    fallback = None
    failed_ids = {f.id for f in result.failures}
    if failed_ids and not str(cfg["detector"]).startswith("landmarks:"):
        fb_detector = cfg.get("fallback") or f"landmarks:{lfw / 'landmarks_mtcnn_5pt.txt'}"
        fb_spec = PipelineSpec(detector=fb_detector, embedder=cfg["embedder"],
                               flip=cfg["flip"], policy="central", threads=1)
        fb_items = [it for it in items if it.id in failed_ids]
        fb, _ = extract_to_file(fb_items, fb_spec, work / f"{name}.fallback.npz",
                                cache_dir=work / f"{name}.cache", workers=workers)
        fallback = fb.descriptors
    return {"name": name, "descriptors": ds, "fallback": fallback, "failures": result.failures,
            "seconds": seconds, "n_processed": result.n_processed, "n_cached": result.n_cached}


def pair_scores(protocol, ds, fallback=None, use_flip=True):
    """Cosine of (X + X_flip) per pair (X alone when ``use_flip`` is off); pairs with a missing image score
    -inf (counted as 'different')."""
    parts = [ds] + ([fallback] if fallback is not None else [])
    X = np.concatenate([p.fused("sum").X if (p.X_flip is not None and use_flip) else p.X for p in parts])
    ids = np.concatenate([p.ids for p in parts])
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    index = {k: i for i, k in enumerate(ids)}
    scores = np.full(len(protocol), -np.inf)
    n_missing = 0
    for k, (a, b) in enumerate(zip(protocol.a, protocol.b)):
        if a in index and b in index:
            scores[k] = float(Xn[index[a]] @ Xn[index[b]])
        else:
            n_missing += 1
    return scores, n_missing


def evaluate(protocol, scores) -> dict:
    from facemetric.verify import kfold_accuracy, roc_auc

    finite = np.where(np.isfinite(scores), scores, -10.0)
    acc = kfold_accuracy(protocol.labels, finite, protocol.folds)
    return {"accuracy": acc.mean, "std": acc.std, "auc": roc_auc(protocol.labels, finite)}


def accuracy_section(args, protocol, items) -> list[dict]:
    rows = []
    for name, cfg in configs(args.models, args.lfw, args.scrfd_size).items():
        if name.split("+")[0] not in args.configs and name not in args.configs:
            continue
        print(f"== {name}: {len(items)} images", flush=True)
        run = run_config(name, cfg, items, args.lfw, args.work, args.workers)
        strict, n_missing_strict = pair_scores(protocol, run["descriptors"])
        full, n_missing = pair_scores(protocol, run["descriptors"], run["fallback"])
        row = {
            "config": name, "detector": cfg["detector_label"], "flip": cfg["flip"], "images": len(items),
            "detector_name": run["descriptors"].provenance.extra.get("detector_name"),
            "failed": len(run["failures"]), "fallback": 0 if run["fallback"] is None else len(run["fallback"]),
            "pairs_missing_strict": n_missing_strict, "pairs_missing": n_missing,
            "strict": evaluate(protocol, strict), "with_fallback": evaluate(protocol, full),
            "strict_no_flip": evaluate(protocol, pair_scores(protocol, run["descriptors"], use_flip=False)[0]),
            "seconds": run["seconds"], "n_processed": run["n_processed"], "n_cached": run["n_cached"],
        }
        rows.append(row)
        print(json.dumps(row, default=float), flush=True)
    return rows


def speed_section(args, items) -> dict:
    """Pipelines first (worker processes fork before this process opens any model), then bare loops."""
    from facemetric.align import align_face
    from facemetric.detect import choose_face, make_detector
    from facemetric.embed import flip_crops, make_embedder
    from facemetric.extract import PipelineSpec, extract_descriptors
    from facemetric.images import read_image

    rng = np.random.default_rng(0)
    sub = [items[i] for i in sorted(rng.choice(len(items), size=args.speed_images, replace=False))]
    onnx = f"onnx:{args.models / 'mobilefacenet_arcface_112.onnx'}"
    landmarks = f"landmarks:{args.lfw / 'landmarks_mtcnn_5pt.txt'}"
    scrfd = functools.partial(scrfd_detector, str(args.models / "scrfd_2.5g_bnkps.onnx"), args.scrfd_size)
    n = len(sub)
    out: dict = {"images": n, "workers": args.workers}

    def pipeline(detector, workers) -> float:
        spec = PipelineSpec(detector=detector, embedder=onnx, flip=True, policy="central",
                            threads=max(1, 2 // workers))
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            res = extract_descriptors(sub, spec, cache_dir=tmp, workers=workers, batch_size=16)
            dt = time.perf_counter() - t0
        return len(res.descriptors) / dt

    out["pipeline_landmarks_fps"] = pipeline(landmarks, args.workers)
    out["pipeline_scrfd_fps"] = pipeline(scrfd, args.workers)
    out["pipeline_landmarks_fps_1proc"] = pipeline(landmarks, 1)

    images = [read_image(it.path) for it in sub]
    det = make_detector(landmarks)
    faces = [choose_face(det.detect(im, it.id), im.shape, "central") for im, it in zip(images, sub)]
    crops = np.stack([align_face(im, f.landmarks, "arcface112").crop for im, f in zip(images, faces)])
    emb = make_embedder(onnx, threads=2)
    emb.embed(crops[:4])
    t0 = time.perf_counter()
    for s in range(0, n, 16):
        batch = crops[s:s + 16]
        emb.embed(np.concatenate([batch, flip_crops(batch)]))
    t_embed = time.perf_counter() - t0
    out["bare_embed_fps"] = n / t_embed

    timings = {}
    scrfd_label = f"scrfd@{args.scrfd_size}" if args.scrfd_size else "scrfd (CLI default)"
    for label, build in [
        (scrfd_label, lambda: scrfd_detector(str(args.models / "scrfd_2.5g_bnkps.onnx"), args.scrfd_size,
                                             threads=2)),
        ("scrfd@640 (the old default)", lambda: make_detector(f"scrfd:{args.models / 'scrfd_2.5g_bnkps.onnx'}@640",
                                                              threads=2)),
        ("yunet (CLI default)", lambda: make_detector(f"yunet:{args.models / 'yunet.onnx'}", threads=2)),
        ("dlib HOG upsample 0", lambda: dlib_detector(0)),
        ("dlib (CLI default, upsample 1)", lambda: make_detector("dlib")),
    ]:
        d = build()
        d.detect(images[0])
        m = min(n, args.detect_images)
        t0 = time.perf_counter()
        for im in images[:m]:
            d.detect(im)
        timings[label] = (time.perf_counter() - t0) / m * 1000
    out["detect_ms"] = timings
    t_det = timings[scrfd_label] / 1000 * n
    out["bare_scrfd_plus_embed_fps"] = n / (t_det + t_embed)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lfw", type=Path, default=SHARED / "lfw")
    ap.add_argument("--models", type=Path, default=SHARED / "models")
    ap.add_argument("--work", type=Path, default=REPO / "runs" / "bench_extract")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--configs", default="scrfd,mtcnn-landmarks,dlib")
    ap.add_argument("--scrfd-size", default="", help="SCRFD canvas suffix (320, 640x480, max320); default: the "
                    "CLI's default")
    ap.add_argument("--speed-images", type=int, default=400)
    ap.add_argument("--detect-images", type=int, default=100)
    ap.add_argument("--folds", default="0,1,2,3,4,5,6,7,8,9", help="View 2 folds to use (0-based)")
    ap.add_argument("--limit", type=int, default=None, help="smoke test: only the first N pairs' images")
    ap.add_argument("--skip-accuracy", action="store_true")
    ap.add_argument("--skip-speed", action="store_true")
    args = ap.parse_args(argv)
    args.configs = args.configs.split(",")
    args.work.mkdir(parents=True, exist_ok=True)
    protocol, items = view2(args.lfw, [int(f) for f in args.folds.split(",")])
    if args.limit:
        k = max(1, args.limit // 20)  # k matched and k mismatched pairs from each of the 10 folds
        protocol = protocol.subset(np.concatenate([f * 600 + np.r_[np.arange(k), 300 + np.arange(k)]
                                                   for f in range(10)]))
        keep = set(protocol.a) | set(protocol.b)
        items = [it for it in items if it.id in keep]
    results: dict = {}
    if not args.skip_accuracy:
        results["accuracy"] = accuracy_section(args, protocol, items)
    if not args.skip_speed:
        sp = speed_section(args, items)
        results["speed"] = sp
        print(f"\nspeed on {sp['images']} View 2 images, {sp['workers']} workers, flip on (2 crops per face):")
        print(f"  landmarks + MobileFaceNet pipeline {sp['pipeline_landmarks_fps']:.1f} faces/s vs bare model on "
              f"pre-aligned crops {sp['bare_embed_fps']:.1f} faces/s: ratio "
              f"{sp['pipeline_landmarks_fps'] / sp['bare_embed_fps']:.2f}")
        print(f"  (same pipeline in 1 process: {sp['pipeline_landmarks_fps_1proc']:.1f} faces/s, ratio "
              f"{sp['pipeline_landmarks_fps_1proc'] / sp['bare_embed_fps']:.2f})")
        print(f"  SCRFD + MobileFaceNet pipeline {sp['pipeline_scrfd_fps']:.1f} faces/s vs bare detect+embed "
              f"loop {sp['bare_scrfd_plus_embed_fps']:.1f} faces/s: ratio "
              f"{sp['pipeline_scrfd_fps'] / sp['bare_scrfd_plus_embed_fps']:.2f}")
        for label, ms in sp["detect_ms"].items():
            print(f"  detection {label}: {ms:.1f} ms per 250x250 image")
    if "accuracy" in results:
        print("\n| pipeline | detector | flip | failed images (fallback) | 10-fold accuracy | strict (no fallback) "
              "| strict, no flip | AUC | time |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in results["accuracy"]:
            w, s = r["with_fallback"], r["strict"]
            print(f"| {r['config']} | {r['detector']} | {'yes' if r['flip'] else 'no'} | {r['failed']} "
                  f"({r['fallback']}) | {w['accuracy'] * 100:.2f}% ± {w['std'] * 100:.2f} | "
                  f"{s['accuracy'] * 100:.2f}% | {r['strict_no_flip']['accuracy'] * 100:.2f}% | {w['auc']:.4f} | "
                  f"{r['seconds'] / 60:.1f} min "
                  f"({r['n_processed']} new, {r['n_cached']} cached) |")
    tag = "+".join(args.configs) + ("" if args.folds.count(",") == 9 else f"-folds{args.folds}")
    (args.work / f"results-{tag}.json").write_text(json.dumps(results, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
