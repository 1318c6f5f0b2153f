"""Images to descriptors with the batches processed on Dask workers; the cache stays on the client.

:class:`DaskRunner` is a :class:`facemetric.extract.pipeline.BatchRunner`: the extraction itself
(hashing, cache look-up, per-batch cache commits so that a stopped run resumes, assembly of the
result) is :func:`facemetric.extract.extract_descriptors`, unchanged. Workers build their detector
and embedder once (:mod:`facemetric.scale.worker_processor`) and read the images by path, so
every worker must see the images at the path the client gives (a shared or mirrored folder).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Sequence

from facemetric.errors import ConfigError
from facemetric.extract.inputs import ImageItem
from facemetric.extract.pipeline import ExtractionResult, PipelineSpec, extract_descriptors, extract_to_file
from facemetric.extract.processor import Task
from facemetric.extract.result import ImageResult
from facemetric.scale.cluster import n_workers, require_distributed
from facemetric.scale.worker_processor import describe_on_worker, process_on_worker


class DaskRunner:
    """Runs extraction batches on ``client``'s workers, a few batches in flight per worker."""

    def __init__(self, client: Any, spec: PipelineSpec):
        self.client, self.spec = client, spec
        self.spec_future: Any = None

    def __enter__(self) -> DaskRunner:
        self.spec_future = self.client.scatter(self.spec, broadcast=True, hash=False)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.spec_future = None

    def describe(self) -> dict[str, Any]:
        return self.client.submit(describe_on_worker, self.spec_future, pure=False).result()

    def run(self, batches: list[list[Task]]) -> Iterator[list[ImageResult]]:
        """Yield each batch's results as it finishes. Paths are made absolute for remote workers."""
        distributed = require_distributed()
        queue = iter([[(key, image_id, str(Path(path).resolve())) for key, image_id, path in batch]
                      for batch in batches])
        finished = distributed.as_completed()

        def submit_next() -> None:
            batch = next(queue, None)
            if batch is not None:
                finished.add(self.client.submit(process_on_worker, self.spec_future, batch, pure=False))

        for _ in range(2 * n_workers(self.client)):
            submit_next()
        for fut in finished:
            yield fut.result()
            submit_next()


def check_batch_size(batch_size: Any) -> None:
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"--batch-size must be an int >= 1; got {batch_size!r}")


def extract_descriptors_on_dask(
    client: Any, items: Sequence[ImageItem], spec: PipelineSpec, *, batch_size: int = 16, **options: Any
) -> ExtractionResult:
    """:func:`facemetric.extract.extract_descriptors` with the batches run on ``client``'s workers."""
    check_batch_size(batch_size)
    return extract_descriptors(items, spec, runner=DaskRunner(client, spec), batch_size=batch_size, **options)


def extract_to_file_on_dask(
    client: Any, items: Sequence[ImageItem], spec: PipelineSpec, out: str | Path, *, batch_size: int = 16,
    **options: Any,
) -> tuple[ExtractionResult, Path]:
    """:func:`facemetric.extract.extract_to_file` (failure report and output, both atomic) on Dask."""
    check_batch_size(batch_size)
    return extract_to_file(items, spec, out, runner=DaskRunner(client, spec), batch_size=batch_size, **options)
