"""One :class:`ImageProcessor` per Dask worker, built on first use and kept for the next batches.

The processor lives on the worker object, keyed by the :class:`PipelineSpec`, so a worker that
serves several runs with different specs keeps one per spec. A lock makes a worker with several
threads run one batch at a time through its models (detectors such as dlib are not thread-safe;
onnxruntime uses its own threads inside a batch).
"""

from __future__ import annotations

import threading
from typing import Any, Sequence

from facemetric.extract.processor import Task
from facemetric.extract.result import ImageResult

_ATTRIBUTE = "_facemetric_processors"
_BUILD_LOCK = threading.Lock()


def _local_processor(spec: Any) -> tuple[Any, threading.Lock]:
    from distributed import get_worker

    try:
        owner: Any = get_worker()
    except ValueError:  # not inside a worker (called directly): cache on this module
        owner = _local_processor
    with _BUILD_LOCK:
        cache = owner.__dict__.setdefault(_ATTRIBUTE, {})
        if spec not in cache:
            cache[spec] = (spec(), threading.Lock())
        return cache[spec]


def describe_on_worker(spec: Any) -> dict[str, Any]:
    """Runs on a worker: what its models are (builds the processor if needed)."""
    processor, _ = _local_processor(spec)
    return processor.describe()


def process_on_worker(spec: Any, tasks: Sequence[Task]) -> list[ImageResult]:
    """Runs on a worker: one result per task, in order, with the worker's processor."""
    processor, lock = _local_processor(spec)
    with lock:
        return processor.process(tasks)
