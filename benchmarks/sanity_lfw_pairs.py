"""Quick accuracy sanity check of detect -> align -> embed on a subset of LFW View 2 pairs.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/sanity_lfw_pairs.py --pairs 300

Takes the first ``pairs/2`` matched and ``pairs/2`` mismatched pairs of fold 1 of
lfw/pairs.txt (read by ``facemetric.io.load_protocol``), describes each image (original +
flipped crop, summed) and scores pairs by cosine. Accuracy is ``facemetric.verify.kfold_accuracy``
over 10 interleaved folds of these pairs (pair ``i`` in fold ``i % 10``; each threshold chosen on
the other nine folds); ROC-AUC is ``facemetric.verify.roc_auc``. This is a smoke test of the image chain, not the
official benchmark (that is the extraction pipeline's benchmark on all 6,000 pairs).
The BGR row feeds the same crops to the RGB model in the wrong channel order.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "2")

from facemetric.align import align_face  # noqa: E402
from facemetric.detect import choose_face, make_detector  # noqa: E402
from facemetric.embed import embed_with_flip, make_embedder  # noqa: E402
from facemetric.images import read_image  # noqa: E402
from facemetric.io import load_protocol  # noqa: E402
from facemetric.verify import kfold_accuracy, roc_auc  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def fold1_pairs(path: Path, n: int) -> tuple[list[tuple[str, str]], np.ndarray]:
    """The first ``n/2`` matched and ``n/2`` mismatched pairs of View 2's first fold."""
    protocol = load_protocol(path, format="lfw")
    first = np.flatnonzero(protocol.folds == protocol.folds[0])
    matched, mismatched = first[protocol.labels[first] == 1], first[protocol.labels[first] == 0]
    sub = protocol.subset(np.concatenate([matched[: n // 2], mismatched[: n // 2]]))
    return list(zip(sub.a.tolist(), sub.b.tolist())), sub.labels


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=SHARED)
    ap.add_argument("--pairs", type=int, default=300)
    ap.add_argument("--only", default="", help="run only the pipelines whose title contains this text")
    args = ap.parse_args()
    lfw, models = args.data / "lfw", args.data / "models"
    pairs, y = fold1_pairs(lfw / "pairs.txt", args.pairs)
    folds = np.arange(len(pairs)) % 10
    images = sorted({i for p in pairs for i in p})
    mfn = f"onnx:{models / 'mobilefacenet_arcface_112.onnx'}"
    scrfd = f"scrfd:{models / 'scrfd_2.5g_bnkps.onnx'}"
    configs = [
        ("scrfd + mobilefacenet", scrfd, mfn, {}),
        ("scrfd + mobilefacenet fed BGR", scrfd, mfn, {"color_order": "BGR"}),
        ("yunet + mobilefacenet", f"yunet:{models / 'yunet.onnx'}", mfn, {}),
        ("given MTCNN landmarks + mobilefacenet", f"landmarks:{lfw / 'landmarks_mtcnn_5pt.txt'}", mfn, {}),
        ("dlib + dlib resnet", "dlib", "dlib", {}),
    ]
    print(f"{len(pairs)} LFW View-2 pairs (fold 1), {len(images)} images, cosine, flip fusion (sum)")
    print(f"{'pipeline':40} {'acc (10-fold)':>13} {'AUC':>7} {'no face':>8} {'s':>6}")
    crop_cache: dict[tuple[str, str], dict[str, np.ndarray]] = {}
    for title, det_spec, emb_spec, opts in [c for c in configs if args.only in c[0]]:
        t0 = time.perf_counter()
        embedder = make_embedder(emb_spec, **opts)
        key = (det_spec, embedder.template)
        if key not in crop_cache:
            detector = make_detector(det_spec)
            crops = {}
            for rel in images:
                image = read_image(lfw / "images" / rel)
                face = choose_face(detector.detect(image, rel), image.shape, "central")
                if face is not None:
                    crops[rel] = align_face(image, face.landmarks, embedder.template).crop
            crop_cache[key] = crops
        crops = crop_cache[key]
        ids = list(crops)
        x, xf = embed_with_flip(embedder, np.stack([crops[i] for i in ids]))
        x = x + xf
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        row = {i: r for r, i in enumerate(ids)}
        # A pair with an undetected face scores -1 (counted as "different"), never dropped.
        s = np.array([float(x[row[a]] @ x[row[b]]) if a in row and b in row else -1.0 for a, b in pairs])
        print(f"{title:40} {kfold_accuracy(y, s, folds).mean:>13.2%} {roc_auc(y, s):>7.4f} "
              f"{len(images) - len(ids):>8} {time.perf_counter() - t0:>6.0f}")


if __name__ == "__main__":
    main()
