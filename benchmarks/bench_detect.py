"""Detection rate and speed on deep-funneled LFW (250x250 tight crops), with and without padding.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_detect.py --n 200 --seed 0

Two image sets are built from the same ``n`` images drawn with ``seed``: the 250x250
deep-funneled images as they are, and tight 112x112 crops aligned to the ArcFace template
from the MTCNN points in lfw/landmarks_mtcnn_5pt.txt (the face fills the frame, as in
insightface's .bin validation sets). For each detector, with and without padding, it
reports the share of images where a face was found, the share where the chosen
("central") face is the labelled one (its eye centre within 0.5 eye-distance of the
reference), and milliseconds per image on one thread, both wall-clock and process CPU time
(CPU time is the steadier figure on a shared machine). The last column compares each CPU
time with unpadded SCRFD at 640 on the 250x250 set, measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")

from facemetric.align import align_face, apply_transform  # noqa: E402
from facemetric.detect import choose_face  # noqa: E402
from facemetric.detect.dlib_hog import DlibHogDetector  # noqa: E402
from facemetric.detect.landmarks_file import read_landmarks_text  # noqa: E402
from facemetric.detect.padded import PaddedDetector  # noqa: E402
from facemetric.detect.scrfd import ScrfdDetector  # noqa: E402
from facemetric.detect.yunet import YunetDetector  # noqa: E402
from facemetric.images import read_image  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=SHARED)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=1, help="timing passes over the images (best is kept)")
    args = ap.parse_args()
    lfw = args.data / "lfw"
    reference = read_landmarks_text(lfw / "landmarks_mtcnn_5pt.txt")
    ids = sorted(reference)
    rng = np.random.default_rng(args.seed)
    chosen = [ids[i] for i in rng.choice(len(ids), size=args.n, replace=False)]
    full = [read_image(lfw / "images" / i) for i in chosen]
    full_ref = [reference[i][0].landmarks for i in chosen]
    tight, tight_ref = [], []
    for image, ref in zip(full, full_ref):
        aligned = align_face(image, ref, "arcface112")
        tight.append(aligned.crop)
        tight_ref.append(apply_transform(aligned.matrix, ref))
    sets = {"lfw250": (full, full_ref), "tight112": (tight, tight_ref)}
    models = args.data / "models"
    base = {
        "scrfd": ScrfdDetector(models / "scrfd_2.5g_bnkps.onnx", threads=1),
        "scrfd320": ScrfdDetector(models / "scrfd_2.5g_bnkps.onnx", input_size=(320, 320), threads=1),
        "yunet": YunetDetector(models / "yunet.onnx", threads=1),
        "dlib": DlibHogDetector(),
    }
    pads = {"scrfd": 0.5, "scrfd320": 0.5, "yunet": 0.5, "dlib": 0.25}
    rows = []
    for set_name, (images, refs) in sets.items():
        for name, det in base.items():
            for pad in (0.0, pads[name]):
                d = PaddedDetector(det, pad) if pad else det
                found = correct = 0
                best = best_cpu = np.inf
                for _ in range(max(args.repeats, 1)):
                    t0, c0 = time.perf_counter(), time.process_time()
                    results = [d.detect(im) for im in images]
                    best = min(best, time.perf_counter() - t0)
                    best_cpu = min(best_cpu, time.process_time() - c0)
                for im, ref, faces in zip(images, refs, results):
                    face = choose_face(faces, im.shape, "central")
                    if face is None:
                        continue
                    found += 1
                    eye_d = np.linalg.norm(ref[1] - ref[0])
                    correct += np.linalg.norm(face.landmarks[:2].mean(0) - ref[:2].mean(0)) < 0.5 * eye_d
                n = len(images)
                rows.append((set_name, name, pad, found / n, correct / n,
                             1000 * best / n, 1000 * best_cpu / n))
    ref_cpu = rows[0][6]
    print(f"{args.n} LFW images (seed {args.seed}), 1 thread; wall and CPU (process) ms per image")
    print(f"{'images':9} {'detector':9} {'pad':>4} {'found':>7} {'correct':>8} {'wall ms':>8} {'cpu ms':>7} "
          f"{'cpu x scrfd':>11}")
    for set_name, name, pad, found, correct, ms, cpu in rows:
        print(f"{set_name:9} {name:9} {pad:>4.2f} {found:>7.1%} {correct:>8.1%} {ms:>8.1f} {cpu:>7.1f} "
              f"{cpu / ref_cpu:>11.2f}")


if __name__ == "__main__":
    main()
