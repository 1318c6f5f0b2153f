"""Detector settings measured: detection rate, landmark error, CPU time and cross-pose AUC (SCRFD, YuNet).

    OMP_NUM_THREADS=2 nice -n 5 .venv/bin/python benchmarks/bench_detect.py --json docs/data/detectors.json
    .venv/bin/python benchmarks/docs_tables.py          # the tables of docs/benchmarks.md from that JSON

Image sets ("conditions"), all built from deep-funneled LFW (``../shared/data/lfw``) with a seed;
every one is a known affine map of a source image, so reference points map through it exactly
(pixel-index coordinates, OpenCV's resize convention):

* ``lfw250``, ``lfw500``, ``lfw125``: ``--n`` random photos as they are, upscaled 2x and
  downscaled 2x (other resolutions of ordinary photos);
* ``tight112``: the same photos aligned to 112x112 ArcFace crops from the MTCNN points (the
  face fills the frame, as in insightface's .bin sets);
* ``yaw250``: for ``--n-yaw`` identities with two or more photos, the photo with the largest
  |yaw| (yaw from the 5 MTCNN points, :func:`facemetric.io.protocols.yaw.estimate_yaw`);
* ``yaw-small``: those photos mirrored with probability 1/2, cropped to a square of 50-80% of
  the side placed off-centre towards the back of the head (the face sits to one side, as in
  profile photos), and downscaled so that the longer side is 100-200 px (CFP-like small photos);
* ``frontal-small``: the same identities' most frontal other photo, mirrored, cropped (55-85%,
  near the centre) and downscaled the same way.

References: the given MTCNN points (independent of both detectors, but noisy: a median 0.12
of the inter-ocular distance (IOD) on these images), and "HQ" points: SCRFD on the 250x250
source photo, averaged over a 640 canvas and the photo's own size (512 canvas), each on the
photo and its mirror (4 runs, pad 0.5; kept where at least 3 runs find the labelled face), mapped through the
condition's transform. For the
transformed conditions the HQ points are a transform-consistency reference; for ``lfw250`` and
``yaw250`` they favour settings close to the reference's own, so read the MTCNN column there.
Errors are divided by the reference's face scale, the distance from the eye centre to the mouth
centre (EMD; 1.16 IOD on a frontal face), because the IOD shrinks to a third at 70 degrees of
yaw and would inflate the errors of exactly the faces this measures. A face is "correct" when
the chosen face's eye centre is within 0.5 EMD of the MTCNN one. Landmark error (NME): mean
distance of the 5 points / EMD, over correct faces.

CPU time: process time of the detection calls, one onnxruntime thread, per image, and as a
ratio to the old default (SCRFD on a 640 canvas, pad 0.5) on the same condition in the same
run. Cross-pose AUC: each ``yaw-small`` photo against its identity's ``frontal-small`` photo
(positive) and against another identity's (negative, a seeded derangement: no descriptor is
used to choose them), MobileFaceNet on ArcFace crops from the chosen face, photo + mirror
summed, cosine; a photo without a face is a rejection (scored below every real score).

Detections are cached per setting and condition under ``--work`` (a stopped run resumes).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FACEMETRIC_SHARED", REPO.parent / "shared")) / "data"
FLIP_ORDER = [1, 0, 2, 4, 3]  # landmarks after mirroring: image-left points swap with image-right ones
POLICIES = ("central", "largest")


# ---- image sets ---------------------------------------------------------------------------------

@dataclass
class Sample:
    """One test image: ``matrix`` (2, 3) maps source-photo points to this image, ``order``
    re-labels them (mirroring swaps left and right)."""

    source: str
    image: np.ndarray
    matrix: np.ndarray
    order: list[int]

    def map(self, points: np.ndarray) -> np.ndarray:
        from facemetric.align import apply_transform

        return apply_transform(self.matrix, points)[self.order]


def _compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    return (np.vstack([outer, [0, 0, 1]]) @ np.vstack([inner, [0, 0, 1]]))[:2]


def resized(image: np.ndarray, new_w: int, new_h: int) -> tuple[np.ndarray, np.ndarray]:
    """``image`` resized with OpenCV, and the exact point map ``(u + 0.5) * s - 0.5`` per axis."""
    import cv2

    h, w = image.shape[:2]
    sx, sy = new_w / w, new_h / h
    interp = cv2.INTER_AREA if sx < 1 else cv2.INTER_LINEAR
    out = cv2.resize(image, (new_w, new_h), interpolation=interp)
    return out, np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5]])


def mirrored(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = image.shape[1]
    return np.ascontiguousarray(image[:, ::-1]), np.array([[-1.0, 0, w - 1], [0, 1, 0]])


def cropped(image: np.ndarray, x0: int, y0: int, side: int) -> tuple[np.ndarray, np.ndarray]:
    return image[y0:y0 + side, x0:x0 + side].copy(), np.array([[1.0, 0, -x0], [0, 1, -y0]])


def small_variant(image, landmarks, yaw, rng, crop_range, shift_back, flip=True) -> Sample:
    """Mirror (p = 1/2), square crop of ``crop_range`` x the side, shifted towards the back of the
    head by up to ``shift_back`` x the crop side, then the longer side downscaled to 100-200 px."""
    h, w = image.shape[:2]
    m = np.array([[1.0, 0, 0], [0, 1, 0]])
    order = list(range(5))
    if flip and rng.random() < 0.5:
        image, f = mirrored(image)
        m, order, yaw = _compose(f, m), FLIP_ORDER, -yaw
    from facemetric.align import apply_transform

    pts = apply_transform(m, landmarks)[order]
    side = int(round(rng.uniform(*crop_range) * min(h, w)))
    centre = pts.mean(axis=0)
    back = -np.sign(yaw) if yaw else rng.choice([-1.0, 1.0])  # nose to +x when yaw > 0: window to -x
    centre = centre + np.array([back * rng.uniform(0, shift_back) * side, rng.uniform(-0.05, 0.05) * side])
    x0 = int(np.clip(round(centre[0] - side / 2), 0, w - side))
    y0 = int(np.clip(round(centre[1] - side / 2), 0, h - side))
    image, c = cropped(image, x0, y0, side)
    target = int(rng.integers(100, 201))
    image, r = resized(image, target, target)
    return Sample("", image, _compose(r, _compose(c, m)), order)


def build_conditions(lfw: Path, refs: dict, n: int, n_yaw: int, seed: int) -> tuple[dict, dict]:
    """{condition: [Sample]} and the source ids of the cross-pose identities."""
    from facemetric.align import align_face
    from facemetric.images import read_image
    from facemetric.io.protocols.yaw import estimate_yaw

    ids = sorted(refs)
    rng = np.random.default_rng(seed)
    ordinary = [ids[i] for i in rng.choice(len(ids), size=n, replace=False)]
    yaw = dict(zip(ids, estimate_yaw(np.stack([refs[i] for i in ids]))))
    by_person: dict[str, list[str]] = {}
    for i in ids:
        by_person.setdefault(i.split("/")[0], []).append(i)
    profiles = []
    for person, images in by_person.items():
        if len(images) >= 2:
            prof = max(images, key=lambda i: (abs(yaw[i]), i))
            front = min((i for i in images if i != prof), key=lambda i: (abs(yaw[i]), i))
            profiles.append((abs(yaw[prof]), prof, front))
    profiles.sort(reverse=True)
    chosen = profiles[:n_yaw]
    conditions: dict[str, list[Sample]] = {k: [] for k in ("lfw250", "lfw500", "lfw125", "tight112", "yaw250",
                                                            "yaw-small", "frontal-small")}
    eye = np.eye(2, 3)
    for i in ordinary:
        img = read_image(lfw / "images" / i)
        conditions["lfw250"].append(Sample(i, img, eye, list(range(5))))
        for name, k in (("lfw500", 2.0), ("lfw125", 0.5)):
            out, m = resized(img, int(250 * k), int(250 * k))
            conditions[name].append(Sample(i, out, m, list(range(5))))
        aligned = align_face(img, refs[i], "arcface112")
        conditions["tight112"].append(Sample(i, aligned.crop, aligned.matrix, list(range(5))))
    for k, (_, prof, front) in enumerate(chosen):
        r = np.random.default_rng([seed, k])
        img = read_image(lfw / "images" / prof)
        conditions["yaw250"].append(Sample(prof, img, eye, list(range(5))))
        s = small_variant(img, refs[prof], yaw[prof], r, (0.5, 0.8), 0.15)
        s.source = prof
        conditions["yaw-small"].append(s)
        f = small_variant(read_image(lfw / "images" / front), refs[front], 0.0, r, (0.55, 0.85), 0.05)
        f.source = front
        conditions["frontal-small"].append(f)
    pairs = {"profile": [p for _, p, _ in chosen], "frontal": [f for _, _, f in chosen],
             "abs_yaw": [float(a) for a, _, _ in chosen]}
    return conditions, pairs


# ---- detector settings ----------------------------------------------------------------------------

def settings(models: Path) -> dict[str, dict]:
    """name -> how to build it. ``scrfd@640 pad0.5`` is the old default (the speed reference)."""
    from facemetric.detect.canvas import CanvasRule

    out = {}
    for label, rule in [("640", CanvasRule(size=(640, 640), upscale=True)),
                        ("320", CanvasRule(size=(320, 320), upscale=True)),
                        ("160", CanvasRule(size=(160, 160), upscale=True)),
                        ("max640", CanvasRule(max_side=640)), ("max320", CanvasRule(max_side=320)),
                        ("max160", CanvasRule(max_side=160))]:
        out[f"scrfd@{label} pad0.5"] = {"kind": "scrfd", "canvas": rule, "pad": 0.5}
    for pad in (0.25, 0.0):
        out[f"scrfd@max320 pad{pad:g}"] = {"kind": "scrfd", "canvas": CanvasRule(max_side=320), "pad": pad}
    for label, rule, pad in [("640 (fit)", CanvasRule(size=(640, 640), upscale=True), 0.5),
                             ("max640", CanvasRule(max_side=640), 0.5), ("max320", CanvasRule(max_side=320), 0.5)]:
        out[f"yunet@{label} pad{pad:g}"] = {"kind": "yunet", "canvas": rule, "pad": pad}
    for cfg in out.values():
        cfg["model"] = models / ("scrfd_2.5g_bnkps.onnx" if cfg["kind"] == "scrfd" else "yunet.onnx")
    return out


def build_detector(cfg: dict, canvas=None, pad=None):
    from facemetric.detect.padded import PaddedDetector
    from facemetric.detect.scrfd import ScrfdDetector
    from facemetric.detect.yunet import YunetDetector

    cls = ScrfdDetector if cfg["kind"] == "scrfd" else YunetDetector
    det = cls(cfg["model"], canvas=canvas or cfg["canvas"], threads=1)
    pad = cfg["pad"] if pad is None else pad
    return PaddedDetector(det, pad) if pad else det


def faces_as_arrays(faces) -> dict[str, np.ndarray]:
    return {"box": np.array([f.box for f in faces], np.float32).reshape(-1, 4),
            "score": np.array([f.score for f in faces], np.float32),
            "landmarks": np.array([f.landmarks for f in faces], np.float32).reshape(-1, 5, 2)}


def arrays_as_faces(a: dict[str, np.ndarray]):
    from facemetric.detect import Face

    return [Face(box=b, score=float(s), landmarks=lm) for b, s, lm in zip(a["box"], a["score"], a["landmarks"])]


def run_setting(name: str, cfg: dict, conditions: dict, work: Path, key: list) -> dict:
    """{condition: {"faces": [arrays per image], "cpu_s", "wall_s"}}, cached in ``work`` under
    ``key`` (the sample sizes and seed: a cache made for other images is not reused)."""
    path = work / f"detections-{name.replace(' ', '_').replace('@', '-').replace('(', '').replace(')', '')}.pkl"
    done = pickle.loads(path.read_bytes()) if path.is_file() else {}
    if done.get("key") != key:
        done = {"key": key}
    missing = [c for c in conditions if c not in done]
    if not missing:
        return done
    det = build_detector(cfg)
    det.detect(next(iter(conditions.values()))[0].image)  # warm-up, not timed
    for cond in missing:
        samples = conditions[cond]
        t0, c0 = time.perf_counter(), time.process_time()
        found = [det.detect(s.image) for s in samples]
        done[cond] = {"faces": [faces_as_arrays(f) for f in found], "cpu_s": time.process_time() - c0,
                      "wall_s": time.perf_counter() - t0}
        print(f"  {name:24} {cond:14} {len(samples)} images, {1000 * done[cond]['cpu_s'] / len(samples):6.1f} "
              f"CPU ms/image", flush=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps(done))
        tmp.replace(path)
    return done


# ---- references -------------------------------------------------------------------------------------

def face_scale(ref: np.ndarray) -> float:
    """Distance from the eye centre to the mouth centre: unlike the inter-ocular distance it does
    not shrink as the head turns (on the ArcFace template it is 1.16 x the inter-ocular distance)."""
    return float(np.linalg.norm(ref[3:5].mean(0) - ref[:2].mean(0)))


def matching_face(faces, ref: np.ndarray, tolerance: float = 0.5):
    """The face whose eye centre is nearest the reference's, if within ``tolerance`` x its face scale."""
    if not faces:
        return None
    d = [np.linalg.norm(f.landmarks[:2].mean(0) - ref[:2].mean(0)) for f in faces]
    k = int(np.argmin(d))
    return faces[k] if d[k] < tolerance * face_scale(ref) else None


def hq_references(lfw: Path, models: Path, refs: dict, sources: list[str], work: Path) -> dict[str, np.ndarray]:
    """SCRFD points on the 250x250 source photos: mean over a 640 canvas and the photo's own size
    (512 canvas), each on the photo and its mirror, pad 0.5; a photo where fewer than 3 of the 4
    runs find the MTCNN-labelled face gets none."""
    from facemetric.detect.canvas import CanvasRule
    from facemetric.images import read_image

    path = work / "hq-references.pkl"
    hq = pickle.loads(path.read_bytes()) if path.is_file() else {}
    todo = [s for s in dict.fromkeys(sources) if s not in hq]
    if not todo:
        return hq
    cfg = {"kind": "scrfd", "model": models / "scrfd_2.5g_bnkps.onnx", "pad": 0.5}
    dets = [build_detector(cfg, canvas=CanvasRule(size=(640, 640), upscale=True)),
            build_detector(cfg, canvas=CanvasRule(max_side=1024))]
    for k, src in enumerate(todo):
        img = read_image(lfw / "images" / src)
        flipped, fm = mirrored(img)
        runs = []
        for det in dets:
            for image, m, order in ((img, np.eye(2, 3), list(range(5))), (flipped, fm, FLIP_ORDER)):
                ref = Sample(src, image, m, order).map(refs[src])  # the MTCNN points in this image
                face = matching_face(det.detect(image), ref)
                if face is not None:  # back to the source photo: the mirror is its own inverse
                    from facemetric.align import apply_transform

                    runs.append(apply_transform(m, face.landmarks)[order])
        hq[src] = np.mean(runs, axis=0) if len(runs) >= 3 else None
        if (k + 1) % 100 == 0 or k + 1 == len(todo):
            print(f"  HQ references {k + 1}/{len(todo)}", flush=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(pickle.dumps(hq))
            tmp.replace(path)
    return hq


# ---- metrics ----------------------------------------------------------------------------------------

def inter_ocular(ref: np.ndarray) -> float:
    return float(np.linalg.norm(ref[1] - ref[0]))


def nme(points: np.ndarray, ref: np.ndarray) -> float:
    """Mean distance of the 5 points over the reference's face scale (eye centre to mouth centre)."""
    return float(np.linalg.norm(points - ref, axis=1).mean() / face_scale(ref))


def condition_metrics(samples, detections, refs, hq, policy: str) -> dict:
    from facemetric.detect import choose_face

    found = correct = 0
    err_m, err_iod, err_hq = [], [], []
    for s, arrays in zip(samples, detections["faces"]):
        faces = arrays_as_faces(arrays)
        face = choose_face(faces, s.image.shape, policy)
        if face is None:
            continue
        found += 1
        ref = s.map(refs[s.source])
        if matching_face([face], ref) is None:
            continue
        correct += 1
        err_m.append(nme(face.landmarks, ref))
        err_iod.append(float(np.linalg.norm(face.landmarks - ref, axis=1).mean() / inter_ocular(ref)))
        if hq.get(s.source) is not None:
            err_hq.append(nme(face.landmarks, s.map(hq[s.source])))
    n = len(samples)
    return {"n": n, "found": found / n, "correct": correct / n, "n_hq": len(err_hq),
            "nme_mtcnn_median": float(np.median(err_m)) if err_m else None,
            "nme_iod_mtcnn_median": float(np.median(err_iod)) if err_iod else None,
            "nme_hq_median": float(np.median(err_hq)) if err_hq else None,
            "nme_hq_mean": float(np.mean(err_hq)) if err_hq else None,
            "nme_hq_p90": float(np.percentile(err_hq, 90)) if err_hq else None,
            "cpu_ms": 1000 * detections["cpu_s"] / n}


def embeddings(samples, detections, policy: str, embedder, cache: dict) -> np.ndarray:
    """(n, dim) photo + mirror descriptors (summed, L2-normalised) of the chosen faces; NaN rows where
    none. ``cache`` keeps descriptors by image and landmarks, so a policy that picks the same face
    costs nothing."""
    from facemetric.align import align_face
    from facemetric.detect import choose_face
    from facemetric.embed import flip_crops

    out = np.full((len(samples), embedder.dim), np.nan, np.float32)
    todo = []
    for k, (s, arrays) in enumerate(zip(samples, detections["faces"])):
        face = choose_face(arrays_as_faces(arrays), s.image.shape, policy)
        if face is None:
            continue
        key = (id(s), face.landmarks.tobytes())
        if key in cache:
            out[k] = cache[key]
        else:
            todo.append((k, key, align_face(s.image, face.landmarks, "arcface112").crop))
    for start in range(0, len(todo), 32):
        chunk = todo[start:start + 32]
        batch = np.stack([c for _, _, c in chunk])
        e = embedder.embed(np.concatenate([batch, flip_crops(batch)]))
        x = e[:len(batch)] + e[len(batch):]
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        for (k, key, _), row in zip(chunk, x):
            out[k] = cache[key] = row
    return out


def cross_pose_pairs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Profile index, frontal index and label: i with i (same person), i with d(i) (a derangement)."""
    perm = np.random.default_rng([seed, 1]).permutation(n)
    other = np.empty(n, int)
    other[perm] = perm[np.r_[1:n, 0]]
    a = np.r_[np.arange(n), np.arange(n)]
    b = np.r_[np.arange(n), other]
    return a, b, np.r_[np.ones(n, int), np.zeros(n, int)]


def pair_scores(prof: np.ndarray, front: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    s = np.einsum("ij,ij->i", prof[a], front[b])
    return np.where(np.isfinite(s), s, -2.0)  # no face: a rejection, below every cosine


# ---- run ------------------------------------------------------------------------------------------

def measure(args) -> dict:
    from facemetric.detect.landmarks_file import read_landmarks_text
    from facemetric.embed import make_embedder
    from facemetric.verify import paired_test, roc_auc

    lfw, models = args.data / "lfw", args.data / "models"
    refs = {k: v[0].landmarks for k, v in read_landmarks_text(lfw / "landmarks_mtcnn_5pt.txt").items()}
    conditions, cp = build_conditions(lfw, refs, args.n, args.n_yaw, args.seed)
    sources = [s.source for c in conditions.values() for s in c]
    print(f"conditions: {', '.join(f'{k} {len(v)}' for k, v in conditions.items())}", flush=True)
    hq = hq_references(lfw, models, refs, sources, args.work)
    grid = settings(models)
    if args.settings:
        grid = {k: v for k, v in grid.items() if k in args.settings.split(",")}
    embedder = make_embedder(f"onnx:{models / 'mobilefacenet_arcface_112.onnx'}", threads=1)
    a, b, labels = cross_pose_pairs(len(cp["profile"]), args.seed)
    rows, verification, scores = [], [], {}
    for name, cfg in grid.items():
        print(f"== {name}", flush=True)
        det = run_setting(name, cfg, conditions, args.work, [args.n, args.n_yaw, args.seed])
        for cond, samples in conditions.items():
            for policy in POLICIES:
                m = condition_metrics(samples, det[cond], refs, hq, policy)
                rows.append({"setting": name, "detector": cfg["kind"], "canvas": cfg["canvas"].label,
                             "upscale": cfg["canvas"].upscale, "pad": cfg["pad"], "condition": cond,
                             "policy": policy, **m})
        cache: dict = {}
        for policy in POLICIES:
            prof = embeddings(conditions["yaw-small"], det["yaw-small"], policy, embedder, cache)
            front = embeddings(conditions["frontal-small"], det["frontal-small"], policy, embedder, cache)
            s = pair_scores(prof, front, a, b)
            scores[(name, policy)] = (s, np.isfinite(prof).all(1)[a] & np.isfinite(front).all(1)[b])
            verification.append({"setting": name, "policy": policy, "n_pairs": int(len(s)),
                                 "n_rejected": int((s == -2.0).sum()), "auc": roc_auc(labels, s)})
    ref_name = "scrfd@640 pad0.5"
    common = np.logical_and.reduce([ok for _, ok in scores.values()])
    for v in verification:
        s, _ = scores[(v["setting"], v["policy"])]
        v["auc_common"] = roc_auc(labels[common], s[common])
        if (ref_name, v["policy"]) in scores and v["setting"] != ref_name:
            t = paired_test(labels, s, scores[(ref_name, v["policy"])][0], n_bootstrap=1000, seed=args.seed)
            v["auc_vs_ref"] = t.difference
            v["auc_vs_ref_ci"] = list(t.ci)
            v["auc_vs_ref_p"] = t.p_value
    for r in rows:
        ref = next((q for q in rows if q["setting"] == ref_name and q["condition"] == r["condition"]
                    and q["policy"] == r["policy"]), None)
        r["cpu_ratio"] = r["cpu_ms"] / ref["cpu_ms"] if ref else None
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {
        "kind": "detector-benchmark",
        "meta": {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "seed": args.seed,
                 "n": args.n, "n_yaw": args.n_yaw, "sizes": {k: len(v) for k, v in conditions.items()},
                 "n_hq_sources": sum(v is not None for v in hq.values()), "n_sources": len(hq),
                 "n_common_pairs": int(common.sum()), "reference": ref_name, "load_average_end": load,
                 "cross_pose_abs_yaw_median": float(np.median(cp["abs_yaw"])),
                 "cross_pose_abs_yaw_min": float(min(cp["abs_yaw"]))},
        "rows": rows, "verification": verification,
    }


# ---- the rule that picks the defaults ------------------------------------------------------------

#: Tolerances of the rule: a setting within these of the best counts as tied on that criterion.
CORRECT_TOLERANCE = 0.01  # 1 percentage point of the worst condition's "correct" rate
NME_TOLERANCE = 0.005  # of the eye-to-mouth distance, on the pose-varied small photos
AUC_TOLERANCE = 0.001  # of the cross-pose AUC on the small photos


def choose_defaults(result: dict) -> dict[str, dict]:
    """Per detector, the default canvas, padding and face policy by the rule of docs/benchmarks.md:

    0. only settings that never enlarge a photo (fitted ``maxN``) are eligible;
    1. face policy: the one with the higher mean "correct" rate over every setting and condition
       of the detector (a tie keeps ``largest``, the previous default);
    2. keep the settings whose worst "correct" rate over the conditions is within
       ``CORRECT_TOLERANCE`` of the best worst rate;
    3. of those, keep the ones whose median NME on ``yaw-small`` (HQ reference) is within
       ``NME_TOLERANCE`` of the best;
    4. of those, keep the ones whose cross-pose AUC (small photos) is within ``AUC_TOLERANCE``
       of the best;
    5. of those, the fastest (geometric mean CPU ratio to the reference).
    """
    out = {}
    rows = result["rows"]
    for kind in dict.fromkeys(r["detector"] for r in rows):
        mine = [r for r in rows if r["detector"] == kind]
        mean = {p: float(np.mean([r["correct"] for r in mine if r["policy"] == p])) for p in POLICIES}
        policy = max(POLICIES, key=lambda p: (mean[p], p == "largest"))
        by_setting: dict[str, list[dict]] = {}
        for r in mine:
            if r["policy"] == policy and not r["upscale"]:
                by_setting.setdefault(r["setting"], []).append(r)
        if not by_setting:
            continue
        worst = {s: min(r["correct"] for r in rs) for s, rs in by_setting.items()}
        step2 = [s for s in by_setting if worst[s] >= max(worst.values()) - CORRECT_TOLERANCE]
        nme_small = {s: next(r["nme_hq_median"] for r in by_setting[s] if r["condition"] == "yaw-small")
                     for s in step2}
        best_nme = min(v for v in nme_small.values() if v is not None)
        step3 = [s for s in step2 if nme_small[s] is not None and nme_small[s] <= best_nme + NME_TOLERANCE]
        auc = {v["setting"]: v["auc"] for v in result["verification"] if v["policy"] == policy}
        best_auc = max(auc[s] for s in step3)
        step4 = [s for s in step3 if auc[s] >= best_auc - AUC_TOLERANCE]
        speed = {s: float(np.exp(np.mean(np.log([r["cpu_ratio"] for r in by_setting[s]])))) for s in step4}
        chosen = min(step4, key=lambda s: (speed[s], s))
        r0 = by_setting[chosen][0]
        out[kind] = {"setting": chosen, "canvas": r0["canvas"], "pad": r0["pad"], "policy": policy,
                     "policy_mean_correct": mean, "worst_correct": worst[chosen], "nme_yaw_small": nme_small[chosen],
                     "auc": auc[chosen], "cpu_ratio": speed[chosen], "after_step2": step2, "after_step3": step3,
                     "after_step4": step4}
    return out


# ---- tables (rendered into docs/benchmarks.md by benchmarks/docs_tables.py) -------------------------

def _pct(x):
    return "-" if x is None else f"{100 * x:.1f}%"


def _f(x, digits=3):
    return "-" if x is None else f"{x:.{digits}f}"


def tables(result: dict, policy: str = "central") -> dict[str, dict]:
    """Generic tables ({"columns", "rows", "notes"}) from the raw results."""
    rows = [r for r in result["rows"] if r["policy"] == policy]
    conds = list(result["meta"]["sizes"])
    settings_ = list(dict.fromkeys(r["setting"] for r in rows))
    by = {(r["setting"], r["condition"]): r for r in rows}
    ver = {(v["setting"], v["policy"]): v for v in result["verification"]}
    summary = []
    for s in settings_:
        cells = [s]
        cells += [_pct(by[(s, c)]["correct"]) for c in conds]
        small = by[(s, "yaw-small")]
        cells += [_f(by[(s, "lfw250")]["nme_iod_mtcnn_median"]), _f(small["nme_hq_median"]),
                  _f(by[(s, "yaw250")]["nme_mtcnn_median"])]
        v = ver.get((s, policy))
        cells += [f"{v['auc']:.4f} ({v['n_rejected']})" if v else "-"]
        ratios = [by[(s, c)]["cpu_ratio"] for c in conds if by[(s, c)]["cpu_ratio"] is not None]
        cells += [_f(float(np.exp(np.mean(np.log(ratios)))), 2) if ratios else "-"]
        summary.append(cells)
    detail = []
    for s in settings_:
        for c in conds:
            r = by[(s, c)]
            detail.append([s, c, str(r["n"]), _pct(r["found"]), _pct(r["correct"]),
                           _f(r["nme_iod_mtcnn_median"]), _f(r["nme_mtcnn_median"]),
                           _f(r["nme_hq_median"]), _f(r["nme_hq_p90"]), f"{r['cpu_ms']:.1f}",
                           _f(r["cpu_ratio"], 2)])
    verif = []
    for v in result["verification"]:
        verif.append([v["setting"], v["policy"], f"{v['auc']:.4f}", str(v["n_rejected"]),
                      f"{v['auc_common']:.4f}",
                      "-" if "auc_vs_ref" not in v else
                      f"{v['auc_vs_ref']:+.4f} [{v['auc_vs_ref_ci'][0]:+.4f}, {v['auc_vs_ref_ci'][1]:+.4f}]"])
    pol = []
    other = [p for p in POLICIES if p != policy]
    for s in settings_:
        for c in conds:
            cells = [s, c] + [_pct(next(r for r in result["rows"] if r["setting"] == s and r["condition"] == c
                                        and r["policy"] == p)["correct"]) for p in (policy, *other)]
            if len(set(cells[2:])) > 1:
                pol.append(cells)
    meta = result["meta"]
    chosen = []
    for kind, c in result.get("chosen", {}).items():
        chosen.append([kind, c["setting"], c["policy"], _pct(c["worst_correct"]), _f(c["nme_yaw_small"]),
                       f"{c['auc']:.4f}", _f(c["cpu_ratio"], 2), ", ".join(c["after_step2"]),
                       ", ".join(c["after_step3"]), ", ".join(c["after_step4"])])
    return {
        "chosen": {"columns": ["detector", "default", "face", "worst correct", "NME yaw-small", "cross-pose AUC",
                               "CPU x ref", "after step 2", "after step 3", "after step 4"], "rows": chosen,
                   "notes": [f"Step 2 keeps the fitted settings within {100 * CORRECT_TOLERANCE:g} point of the "
                             f"best worst-condition 'correct' rate, step 3 those within {NME_TOLERANCE:g} of "
                             f"the best NME on yaw-small, step 4 those within {AUC_TOLERANCE:g} of the best "
                             f"cross-pose AUC, step 5 takes the fastest."]},
        "summary": {"columns": ["setting", *[f"correct {c}" for c in conds], "NME/IOD lfw250 (MTCNN)",
                                "NME yaw-small (HQ)", "NME yaw250 (MTCNN)", "cross-pose AUC (rejected)", "CPU x old default"],
                    "rows": summary,
                    "notes": [f"Face policy {policy}. 'correct': the chosen face is the labelled one (eye centre "
                              f"within 0.5 EMD of the MTCNN point). NME/IOD: median mean-5-point error / inter-ocular "
                              f"distance; NME: the same / EMD (eye centre to mouth centre), both over "
                              f"correct faces. CPU: geometric mean over the {len(conds)} conditions of the ratio "
                              f"to {meta['reference']} on the same condition, same run."]},
        "detail": {"columns": ["setting", "condition", "n", "found", "correct", "NME/IOD MTCNN", "NME MTCNN", "NME HQ",
                               "NME HQ p90", "CPU ms", "CPU x ref"], "rows": detail},
        "verification": {"columns": ["setting", "policy", "AUC", "rejected photos' pairs", "AUC common pairs",
                                     f"AUC - {meta['reference']} [95% CI]"], "rows": verif,
                         "notes": [f"{len(result['verification']) and result['verification'][0]['n_pairs']} pairs "
                                   f"(half positive); 'common pairs': the {meta['n_common_pairs']} pairs where "
                                   f"every setting found both faces. CI: paired pair-level bootstrap (1,000 "
                                   f"replicates; each profile photo is in two pairs, so it is a little narrow)."]},
        "policies": {"columns": ["setting", "condition", *[f"correct ({p})" for p in (policy, *other)]],
                     "rows": pol, "notes": ["Only the rows where the face policies differ."]},
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=SHARED)
    ap.add_argument("--n", type=int, default=200, help="ordinary LFW photos (lfw250/500/125, tight112)")
    ap.add_argument("--n-yaw", type=int, default=300, help="identities of the largest-yaw photos")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--settings", default="", help="comma list of setting names (default: all)")
    ap.add_argument("--work", type=Path, default=REPO / "runs" / "bench_detect")
    ap.add_argument("--json", type=Path, default=None, help="write the results (and tables) here")
    ap.add_argument("--policy", default="central", help="face policy of the summary table")
    ap.add_argument("--tables-only", action="store_true", help="re-render the tables of an existing --json")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    if args.tables_only:
        result = json.loads(args.json.read_text(encoding="utf-8"))
    else:
        result = measure(args)
    result["chosen"] = choose_defaults(result)
    result["tables"] = tables(result, args.policy)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=float) + "\n", encoding="utf-8")
    for name in ("summary", "chosen"):
        t = result["tables"][name]
        print("\n" + " | ".join(t["columns"]))
        for row in t["rows"]:
            print(" | ".join(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
