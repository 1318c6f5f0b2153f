"""Images to descriptors with batches processed on Dask workers; the cache stays on the client.

The client does what :func:`facemetric.extract.extract_descriptors` does in the parent
process: it hashes the image files, looks them up in the SQLite cache, sends only the missing
images, commits every finished batch to the cache as it arrives (so a stopped run resumes),
and assembles the :class:`ExtractionResult` with the same code. Workers build their detector
and embedder once (:mod:`facemetric.scale.worker_processor`) and read the images by path, so
every worker must see the images at the path the client gives (a shared or mirrored folder).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Sequence

from facemetric.errors import ConfigError, InputError
from facemetric.extract.inputs import ImageItem
from facemetric.extract.pipeline import (
    ExtractionResult,
    Failure,
    PipelineSpec,
    ProgressFn,
    _assemble,
    _open_cache,
    failure_report_path,
    file_hash,
    write_failure_report,
)
from facemetric.extract.result import UNREADABLE
from facemetric.scale.cluster import n_workers, require_distributed
from facemetric.scale.worker_processor import describe_on_worker, process_on_worker


def _image_keys(items: Sequence[ImageItem]) -> tuple[list[str | None], dict[str, Failure]]:
    keys: list[str | None] = []
    failures: dict[str, Failure] = {}
    for it in items:
        try:
            keys.append(f"{file_hash(it.path)}:{it.id}")
        except OSError as exc:
            keys.append(None)
            failures[it.id] = Failure(it.id, UNREADABLE, f"{it.path}: {exc.strerror or exc}")
    return keys, failures


def _check(items: Sequence[ImageItem], batch_size: int) -> None:
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"--batch-size must be an int >= 1; got {batch_size!r}")
    if not items:
        raise InputError("no images to extract; give a folder, list file or protocol with images")
    seen: set[str] = set()
    for it in items:
        if it.id in seen:
            raise InputError(f"image {it.id!r} is given twice; list each image once")
        seen.add(it.id)


def extract_descriptors_on_dask(
    client: Any,
    items: Sequence[ImageItem],
    spec: PipelineSpec,
    *,
    cache_dir: str | Path | None = None,
    batch_size: int = 16,
    on_progress: ProgressFn | None = None,
) -> ExtractionResult:
    """Like :func:`facemetric.extract.extract_descriptors`, with the batches run on ``client``'s workers."""
    distributed = require_distributed()
    _check(items, batch_size)
    keys, pre_failures = _image_keys(items)
    results: dict[str, Any] = {}
    spec_f = client.scatter(spec, broadcast=True, hash=False)
    with _open_cache(cache_dir) as cache:
        described = client.submit(describe_on_worker, spec_f, pure=False).result()
        config = hashlib.sha256(json.dumps(spec.fingerprint(described), sort_keys=True).encode()).hexdigest()
        if cache is not None:
            results.update(cache.get_many(config, [k for k in keys if k is not None]))
        n_cached = len(results)
        todo = [(k, it.id, str(Path(it.path).resolve())) for it, k in zip(items, keys)
                if k is not None and k not in results]
        total, done = len(items), len(items) - len(todo)
        if on_progress:
            on_progress(done, total)
        batches = iter([todo[i:i + batch_size] for i in range(0, len(todo), batch_size)])
        finished = distributed.as_completed()

        def submit_next() -> None:
            batch = next(batches, None)
            if batch is not None:
                finished.add(client.submit(process_on_worker, spec_f, batch, pure=False))

        for _ in range(2 * n_workers(client)):  # a few batches in flight per worker
            submit_next()
        for fut in finished:
            batch_results = fut.result()
            if cache is not None:
                cache.put_many(config, batch_results)
            results.update((r.key, r) for r in batch_results)
            done += len(batch_results)
            if on_progress:
                on_progress(done, total)
            submit_next()
    return _assemble(items, keys, results, pre_failures, spec, described, n_cached, len(todo))


def extract_to_file_on_dask(
    client: Any,
    items: Sequence[ImageItem],
    spec: PipelineSpec,
    out: str | Path,
    *,
    cache_dir: str | Path | None = None,
    **options: Any,
) -> tuple[ExtractionResult, Path]:
    """:func:`extract_descriptors_on_dask`, then the failure report and ``out``, both atomic
    (as :func:`facemetric.extract.extract_to_file`)."""
    from facemetric.io import save_descriptors

    out = Path(out)
    if out.suffix not in (".npz", ".parquet"):
        raise ConfigError(f"{out}: the output must end in .npz or .parquet")
    result = extract_descriptors_on_dask(client, items, spec, cache_dir=cache_dir, **options)
    report = write_failure_report(result.failures, failure_report_path(out))
    if result.descriptors is None:
        reasons = sorted({f.reason for f in result.failures})
        raise InputError(f"no descriptors: all {result.n_images} image(s) failed ({', '.join(reasons)}); "
                         f"see {report}")
    save_descriptors(result.descriptors, out)
    return result, report
