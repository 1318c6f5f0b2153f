"""Images to a DescriptorSet: cache look-up, batches over worker processes, failure report, atomic output.

The parent process never loads a model: it hashes the image files, looks them up in the
cache, and hands the rest in batches to worker processes that each build their detector and
embedder once. Every finished batch is committed to the cache, so a run that is stopped
(Ctrl-C, kill, crash) resumes where it stopped. Failed images go to a report and never stop
the run.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import multiprocessing
import os
import sys
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol, Sequence

import numpy as np

from facemetric.detect.base import DEFAULT_POLICY
from facemetric.io.protocols.yaw import yaw_or_nan
from facemetric.errors import ConfigError, InputError
from facemetric.extract.cache import ResultCache
from facemetric.extract.inputs import ImageItem
from facemetric.extract.processor import (
    ImageProcessor,
    Task,
    describe_worker,
    init_worker,
    process_in_worker,
)
from facemetric.extract.result import FALLBACK, NO_FACE, UNREADABLE, ImageResult
from facemetric.io.atomic import write_text_atomic
from facemetric.io.digest import file_digest
from facemetric.types import DescriptorSet, Provenance

CACHE_VERSION = 1
ProgressFn = Callable[[int, int], None]  # (images done, total)


@dataclass(frozen=True)
class PipelineSpec:
    """A picklable recipe for an :class:`ImageProcessor`, built once in each worker.

    ``detector`` and ``embedder`` are spec strings (``"scrfd:model.onnx"``, ``"dlib"``...) or
    zero-argument callables returning a detector / an embedder. ``threads`` caps each
    worker's onnxruntime threads. ``fallback="center"`` describes photos in which no face is found
    from a centred box (``fallback_scale`` of the shorter side; see
    :func:`facemetric.extract.processor.centre_face`); off (None) by default.
    """

    detector: str | Callable[[], Any]
    embedder: str | Callable[[], Any]
    template: str | None = None
    flip: bool = False
    min_face: float = 20.0
    policy: str = DEFAULT_POLICY
    threads: int | None = None
    fallback: str | None = None
    fallback_scale: float = 0.5

    def __call__(self) -> ImageProcessor:
        from facemetric.detect import CHOOSE_POLICIES

        if self.policy not in CHOOSE_POLICIES:
            raise ConfigError(f"The face choice policy must be one of {CHOOSE_POLICIES}; got {self.policy!r}")
        if isinstance(self.detector, str):
            from facemetric.detect import make_detector

            detector = make_detector(self.detector, threads=self.threads)
        else:
            detector = self.detector()
        if isinstance(self.embedder, str):
            from facemetric.embed import make_embedder

            options = {} if self.threads is None else {"threads": self.threads}
            embedder = make_embedder(self.embedder, **options)
        else:
            embedder = self.embedder()
        return ImageProcessor(detector, embedder, template=self.template, flip=self.flip,
                              min_face=self.min_face, policy=self.policy, fallback=self.fallback,
                              fallback_scale=self.fallback_scale)

    def fingerprint(self, described: dict[str, Any]) -> dict[str, Any]:
        """Everything that changes a descriptor, with model files replaced by their content hash."""
        return {
            "version": CACHE_VERSION, "models": described,
            "detector_spec": _spec_with_hashes(self.detector) if isinstance(self.detector, str) else None,
            "flip": self.flip, "min_face": self.min_face, "policy": self.policy,
            **({"fallback": self.fallback, "fallback_scale": self.fallback_scale} if self.fallback else {}),
        }


def _spec_with_hashes(spec: str) -> str:
    from facemetric.detect.factory import split_spec

    kind, arg, suffix = split_spec(spec)
    if arg and Path(arg).is_file():
        return f"{kind}:sha256={file_hash(Path(arg))}" + ("" if suffix is None else f"@{suffix}")
    return spec


def _blake2b_128() -> Any:
    return hashlib.blake2b(digest_size=16)


#: Image and model files are keyed in the extraction cache by their BLAKE2b-128 digest.
IMAGE_DIGEST = _blake2b_128


def file_hash(path: Path) -> str:
    """The cache key of an image or model file (BLAKE2b, 128 bits)."""
    return file_digest(path, IMAGE_DIGEST)


@dataclass(frozen=True)
class Failure:
    """An image in which no face was used: its id, the reason (see ``extract.result.REASONS``) and details.

    ``fallback`` names the fallback that still gave it a descriptor ("center"), or "" when it has none.
    """

    id: str
    reason: str
    detail: str
    fallback: str = ""


@dataclass
class ExtractionResult:
    """What a run produced: descriptors of the images that worked, and the failures (with the images
    that got a fallback descriptor, marked ``fallback``)."""

    descriptors: DescriptorSet | None
    failures: list[Failure]
    n_images: int
    n_cached: int
    n_processed: int
    faces: dict[str, ImageResult] = field(default_factory=dict, repr=False)

    @property
    def fallbacks(self) -> list[str]:
        """Ids of the images described from the fallback box."""
        return [f.id for f in self.failures if f.fallback]


def extract_descriptors(
    items: Sequence[ImageItem],
    spec: PipelineSpec,
    *,
    cache_dir: str | Path | None = None,
    workers: int = 1,
    batch_size: int = 16,
    on_progress: ProgressFn | None = None,
    start_method: str | None = None,
    runner: BatchRunner | None = None,
) -> ExtractionResult:
    """Descriptors of ``items`` (in their order) with the detector and embedder of ``spec``.

    ``workers`` <= 1 runs in this process; more starts that many worker processes
    (``start_method`` defaults to "fork" where available, else "spawn"). ``runner`` replaces
    both with another engine that runs the batches (e.g. :class:`facemetric.scale.DaskRunner`).
    With ``cache_dir``, results are looked up and stored there, one transaction per batch.
    """
    if workers < 0 or batch_size < 1:
        raise ConfigError(f"workers must be >= 0 and batch_size >= 1; got workers={workers}, "
                          f"batch_size={batch_size}")
    if not items:
        raise InputError("no images to extract; give a folder, list file or protocol with images")
    ids = [it.id for it in items]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise InputError(f"image {dup!r} is given twice; list each image once")
    total = len(items)
    keys: list[str | None] = []
    results: dict[str, ImageResult] = {}
    pre_failures: dict[str, Failure] = {}
    for it in items:
        try:
            keys.append(f"{file_hash(it.path)}:{it.id}")
        except OSError as exc:
            keys.append(None)
            pre_failures[it.id] = Failure(it.id, UNREADABLE, f"{it.path}: {exc.strerror or exc}")
    if runner is None:
        runner = _Runner(spec, workers, start_method)
    with runner, _open_cache(cache_dir) as cache:
        described = runner.describe()
        config = hashlib.sha256(json.dumps(spec.fingerprint(described), sort_keys=True).encode()).hexdigest()
        wanted = [k for k in keys if k is not None]
        if cache is not None:
            results.update(cache.get_many(config, wanted))
        n_cached = len(results)
        todo: list[Task] = [(k, it.id, str(it.path)) for it, k in zip(items, keys)
                            if k is not None and k not in results]
        done = total - len(todo)
        if on_progress:
            on_progress(done, total)
        for batch_results in runner.run([todo[i:i + batch_size] for i in range(0, len(todo), batch_size)]):
            if cache is not None:
                cache.put_many(config, batch_results)
            results.update((r.key, r) for r in batch_results)
            done += len(batch_results)
            if on_progress:
                on_progress(done, total)
    return _assemble(items, keys, results, pre_failures, spec, described, n_cached, len(todo))


def _assemble(items, keys, results, pre_failures, spec, described, n_cached, n_processed) -> ExtractionResult:
    rows, failures, faces = [], [], {}
    for it, key in zip(items, keys):
        if key is None:
            failures.append(pre_failures[it.id])
            continue
        r = results[key]
        if r.ok:
            rows.append((it, r))
            faces[it.id] = r
            if r.status == FALLBACK:
                failures.append(Failure(it.id, NO_FACE, r.detail, fallback=spec.fallback or "center"))
        else:
            failures.append(Failure(it.id, r.status, r.detail))
    fallbacks = [f.id for f in failures if f.fallback]
    descriptors = None
    if rows:
        from facemetric.detect.factory import portable_spec

        detector, detector_hash = (portable_spec(spec.detector) if isinstance(spec.detector, str)
                                   else (described["detector"], None))
        provenance = Provenance(
            backbone=described["embedder"], alignment=described.get("alignment", described["template"]),
            color_order=described["color_order"], normalization="none", flip_fusion="none",
            detector=detector,
            extra={"model_hash": described["model_hash"], "detector_name": described["detector"],
                   "detector_hash": detector_hash,
                   **({"detector_settings": described["detector_settings"]} if "detector_settings" in described
                      else {}),
                   "input_size": described["input_size"], "has_flip": spec.flip, "face_policy": spec.policy,
                   "min_face": spec.min_face, "n_failed": len(failures) - len(fallbacks),
                   "source": "facemetric extract",
                   **({"fallback": spec.fallback, "fallback_scale": spec.fallback_scale,
                       "fallback_images": fallbacks} if spec.fallback else {})},
        )
        landmarks = np.stack([np.full((5, 2), np.nan) if r.landmarks is None else r.landmarks for _, r in rows])
        descriptors = DescriptorSet(
            X=np.stack([r.x for _, r in rows]), labels=[it.label for it, _ in rows],
            ids=[it.id for it, _ in rows], provenance=provenance,
            X_flip=np.stack([r.x_flip for _, r in rows]) if spec.flip else None,
            landmarks=landmarks, yaw=yaw_or_nan(landmarks),
        )
    return ExtractionResult(descriptors, failures, len(items), n_cached, n_processed, faces)


class _NoCache:
    def __enter__(self):
        return None

    def __exit__(self, *exc) -> None:
        pass


def _open_cache(cache_dir):
    return _NoCache() if cache_dir is None else ResultCache(cache_dir)


class BatchRunner(Protocol):
    """What runs the batches of an extraction: a context manager that builds the models
    (``describe`` says what they are) and yields each batch's results as batches finish."""

    def __enter__(self) -> BatchRunner: ...

    def __exit__(self, *exc: Any) -> None: ...

    def describe(self) -> dict[str, Any]: ...

    def run(self, batches: list[list[Task]]) -> Iterator[list[ImageResult]]: ...


class _Runner:
    """Runs batches in this process (workers <= 1) or in a pool of worker processes."""

    def __init__(self, spec: PipelineSpec, workers: int, start_method: str | None):
        self.spec, self.workers, self.start_method = spec, workers, start_method
        self.pool: ProcessPoolExecutor | None = None
        self.processor: ImageProcessor | None = None

    def __enter__(self) -> _Runner:
        if self.workers <= 1:
            self.processor = self.spec()
            return self
        method = self.start_method or ("fork" if "fork" in multiprocessing.get_all_start_methods()
                                       and sys.platform.startswith("linux") else "spawn")
        self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context(method),
                                        initializer=init_worker, initargs=(self.spec,))
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def describe(self) -> dict[str, Any]:
        if self.processor is not None:
            return self.processor.describe()
        return self.pool.submit(describe_worker).result()

    def run(self, batches: list[list[Task]]):
        """Yield each batch's results as soon as it is done (in completion order)."""
        if self.processor is not None:
            for batch in batches:
                yield self.processor.process(batch)
            return
        pending, queue = set(), list(reversed(batches))
        while queue or pending:
            while queue and len(pending) < 2 * self.workers:  # a few batches in flight per worker
                pending.add(self.pool.submit(process_in_worker, queue.pop()))
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                yield fut.result()


def failure_report_path(out: str | Path) -> Path:
    """``faces.npz`` -> ``faces.failures.csv``, next to the output."""
    out = Path(out)
    return out.with_name(out.stem + ".failures.csv")


def write_failure_report(failures: Sequence[Failure], path: str | Path) -> Path:
    """CSV with columns image, reason, detail, fallback (the fallback that still gave the image a
    descriptor, or empty); written atomically (header only when nothing failed)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["image", "reason", "detail", "fallback"])
    for f in failures:
        writer.writerow([f.id, f.reason, f.detail.replace("\n", " "), f.fallback])
    write_text_atomic(path, buf.getvalue())
    return Path(path)


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def extract_to_file(
    items: Sequence[ImageItem],
    spec: PipelineSpec,
    out: str | Path,
    *,
    cache_dir: str | Path | None = None,
    **options: Any,
) -> tuple[ExtractionResult, Path]:
    """Run :func:`extract_descriptors`, write the failure report next to ``out``, then ``out`` itself.

    Both writes are atomic. Raise :class:`InputError` when no image gave a descriptor.
    Returns the result and the report's path.
    """
    from facemetric.io import save_descriptors

    out = Path(out)
    if out.suffix not in (".npz", ".parquet"):
        raise ConfigError(f"{out}: the output must end in .npz or .parquet")
    result = extract_descriptors(items, spec, cache_dir=cache_dir, **options)
    report = write_failure_report(result.failures, failure_report_path(out))
    if result.descriptors is None:
        reasons = sorted({f.reason for f in result.failures})
        raise InputError(f"no descriptors: all {result.n_images} image(s) failed ({', '.join(reasons)}); "
                         f"see {report}")
    save_descriptors(result.descriptors, out)
    return result, report
