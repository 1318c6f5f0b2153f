"""Turn a batch of image files into descriptors: read, detect, choose a face, align, embed.

An :class:`ImageProcessor` owns one detector and one embedder, built once. It never raises
for a bad image: every image gets an :class:`ImageResult`, either a descriptor or a reason.
The module-level functions run it inside worker processes, one processor per process.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from facemetric.detect.base import DEFAULT_POLICY
from facemetric.errors import ConfigError, InputError
from facemetric.extract.result import ERROR, FALLBACK, NO_FACE, OK, TINY_FACE, UNREADABLE, ImageResult, failed

Task = tuple[str, str, str]  # (cache key, image id, file path)


class ImageProcessor:
    """Detect, align and embed images with one detector and one embedder.

    ``template`` defaults to the embedder's; ``flip`` also embeds the mirrored crop;
    faces whose box is narrower or shorter than ``min_face`` pixels are "tiny face" failures;
    ``policy`` picks one face per image ("largest" or "central", see ``choose_face``).
    With the ``dlib150`` template and a detector that gives dlib shapes (``gives_dlib_shape``),
    faces are cut with dlib's own chip (:func:`facemetric.align.dlib_chip.dlib_chip`), which is
    what dlib's ResNet was trained on; ``dlib_chip=False`` forces the 5-point similarity warp.
    ``fallback="center"`` describes an image in which no face is found from a centred box instead
    (:func:`centre_face`, the template's canvas spanning ``fallback_scale`` of the shorter side);
    such results have status "fallback". None (the default) reports them as "no face".
    """

    def __init__(self, detector: Any, embedder: Any, *, template: str | None = None, flip: bool = False,
                 min_face: float = 20.0, policy: str = DEFAULT_POLICY, dlib_chip: bool = True,
                 fallback: str | None = None, fallback_scale: float = 0.5):
        self.detector = detector
        self.embedder = embedder
        self.template = template or embedder.template
        self.flip = flip
        self.min_face = min_face
        self.policy = policy
        self.dlib_chip = bool(dlib_chip and self.template == "dlib150"
                              and getattr(detector, "gives_dlib_shape", False))
        self.fallback = check_fallback(fallback, fallback_scale)
        self.fallback_scale = fallback_scale

    def describe(self) -> dict[str, Any]:
        """What the models are, for the cache key and the provenance."""
        e = self.embedder
        settings = getattr(self.detector, "settings", None)
        return {
            **({"detector_settings": dict(settings)} if settings else {}),
            "detector": getattr(self.detector, "name", type(self.detector).__name__),
            "embedder": e.name, "model_hash": e.model_hash, "dim": int(e.dim), "template": self.template,
            "alignment": "dlib-chip150" if self.dlib_chip else self.template,
            "color_order": e.color_order, "input_size": list(e.input_size),
        }

    def face_of(self, image: np.ndarray, image_id: str):
        """The chosen face of ``image``, or a (reason, detail) pair."""
        from facemetric.detect import choose_face

        face = choose_face(self.detector.detect(image, image_id=image_id), image.shape, policy=self.policy)
        if face is None:
            return None, (NO_FACE, f"{self.detector.name} found no face")
        side = min(face.width, face.height)
        if side < self.min_face:
            return None, (TINY_FACE, f"face box is {side:.0f} px, below the {self.min_face:g} px minimum")
        return face, None

    def align(self, image: np.ndarray, face: Any):
        """The :class:`AlignedFace` of ``face``: dlib's chip when enabled and available, else the
        template warp."""
        if self.dlib_chip and face.dlib_shape is not None:
            from facemetric.align.dlib_chip import dlib_chip

            return dlib_chip(image, face.dlib_shape)
        from facemetric.align import align_face

        return align_face(image, face.landmarks, template=self.template)

    def process(self, tasks: Sequence[Task]) -> list[ImageResult]:
        """One result per task, in order."""
        from facemetric.images import read_image

        results: list[ImageResult | None] = [None] * len(tasks)
        crops, faces, slots, notes = [], [], [], {}
        for i, (key, image_id, path) in enumerate(tasks):
            try:
                image = read_image(path)
            except InputError as exc:
                results[i] = failed(key, UNREADABLE, str(exc))
                continue
            try:
                face, why = self.face_of(image, image_id)
                if face is None and why[0] == NO_FACE and self.fallback is not None:
                    face = centre_face(image.shape, self.template, self.fallback_scale)
                    notes[i] = f"{why[1]}; described from a centred box ({self.fallback_scale:g} of the shorter side)"
                if face is None:
                    results[i] = failed(key, *why)
                    continue
                crop = self.align(image, face).crop
            except Exception as exc:  # noqa: BLE001 - a backend failing on one image stops nothing
                results[i] = failed(key, ERROR, f"{exc.__class__.__name__}: {exc}")
                continue
            crops.append(crop)
            faces.append(face)
            slots.append(i)
        if crops:
            self._embed_into(results, tasks, crops, faces, slots, notes)
        return results  # type: ignore[return-value]

    def _embed_into(self, results, tasks, crops, faces, slots, notes) -> None:
        from facemetric.embed import flip_crops

        n = len(crops)
        try:
            batch = np.stack(crops)
            if self.flip:  # one call for both, so that batching models see one larger batch
                batch = np.concatenate([batch, flip_crops(batch)])
            out = np.asarray(self.embedder.embed(batch), dtype=np.float32)
            if out.shape != (batch.shape[0], self.embedder.dim):
                raise ValueError(f"the embedder returned shape {out.shape} for {batch.shape[0]} crops")
            X, X_flip = (out[:n], out[n:]) if self.flip else (out, None)
        except Exception as exc:  # noqa: BLE001 - reported per image, retried next run
            for i in slots:
                results[i] = failed(tasks[i][0], ERROR, f"embedding failed: {exc.__class__.__name__}: {exc}")
            return
        for row, (i, face) in enumerate(zip(slots, faces)):
            x, xf = X[row], None if X_flip is None else X_flip[row]
            if not np.isfinite(x).all() or (xf is not None and not np.isfinite(xf).all()):
                results[i] = failed(tasks[i][0], ERROR, "the embedder returned NaN or inf")
                continue
            status, detail = (FALLBACK, notes[i]) if i in notes else (OK, "")
            results[i] = ImageResult(key=tasks[i][0], status=status, detail=detail, x=x, x_flip=xf, box=face.box,
                                     landmarks=face.landmarks, score=face.score)


FALLBACKS = ("center",)


def check_fallback(fallback: str | None, scale: float) -> str | None:
    if fallback in (None, "none"):
        return None
    if fallback not in FALLBACKS:
        raise ConfigError(f"The 'fallback' parameter must be none or {', '.join(FALLBACKS)}. Got {fallback!r} instead.")
    if not 0.0 < scale <= 1.0:
        raise ConfigError(f"The 'fallback_scale' parameter must be in (0, 1]. Got {scale!r} instead.")
    return fallback


def centre_face(image_shape: Sequence[int], template: str, scale: float = 0.5):
    """A stand-in face for a photo in which none was found: the template's canvas, square, centred on the
    image and ``scale`` times its shorter side wide, with the template's five points inside it.

    The default 0.5 is what the ArcFace 112x112 canvas spans in LFW's 250x250 photos: the median over
    the View 1 training images, aligned from their MTCNN points, is 0.51 of the side, centred within 3%
    (docs/extraction.md).
    """
    from facemetric.align.templates import get_template
    from facemetric.detect.base import Face

    t = get_template(template)
    h, w = int(image_shape[0]), int(image_shape[1])
    side = scale * min(h, w)
    k = side / max(t.size)
    x0, y0 = (w - t.size[0] * k) / 2.0, (h - t.size[1] * k) / 2.0
    points = t.points * k + np.array([x0, y0])
    box = np.array([x0, y0, x0 + t.size[0] * k, y0 + t.size[1] * k])
    return Face(box=box, score=float("nan"), landmarks=points)


# ---- worker processes: one processor per process, built by the pool initializer ----------------

_PROCESSOR: ImageProcessor | None = None
_INIT_ERROR: BaseException | None = None


def init_worker(make_processor: Callable[[], ImageProcessor]) -> None:
    """Pool initializer: build this process's processor once, or remember why it failed."""
    global _PROCESSOR, _INIT_ERROR
    try:
        _PROCESSOR = make_processor()
    except Exception as exc:  # noqa: BLE001 - re-raised in the parent by describe_worker
        _INIT_ERROR = exc


def describe_worker() -> dict[str, Any]:
    if _INIT_ERROR is not None:
        raise _INIT_ERROR
    assert _PROCESSOR is not None
    return _PROCESSOR.describe()


def process_in_worker(tasks: Sequence[Task]) -> list[ImageResult]:
    if _INIT_ERROR is not None:
        raise _INIT_ERROR
    assert _PROCESSOR is not None
    return _PROCESSOR.process(tasks)
