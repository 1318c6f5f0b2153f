"""Score a very large pair list on Dask workers, then evaluate it.

The client prepares the descriptors once (``metric.prepare``) and broadcasts them and the
fitted metric to every worker. The pairs are cut into partitions; each task scores one
partition with the metric's own loop, :meth:`PairMetric.score_prepared_pairs`, in chunks of
``chunk_size`` pairs, exactly as :meth:`PairMetric.score_pairs` does in one process (partitions are whole multiples of the
chunk, so every chunk sees the same rows and the scores are bit-identical). Scores are
written back in pair order as partitions finish; only a few partitions are in flight at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from facemetric.constraints import Interval, check_params
from facemetric.errors import ConfigError, InputError
from facemetric.experiments.driver import restrict_to_pairs
from facemetric.metrics.base import DEFAULT_CHUNK
from facemetric.scale.cluster import n_workers, require_distributed
from facemetric.scale.pairs import IndexPairs, load_index_pairs
from facemetric.types import DescriptorSet

DEFAULT_PARTITION = 1 << 20  # pairs per task: 8 MiB of int32 indices, about 0.3 s of 512-d cosine
ProgressFn = Callable[[int, int], None]  # (pairs done, total)


def score_partition(metric: Any, Z: np.ndarray, pairs: np.ndarray, chunk_size: int) -> np.ndarray:
    """Runs on a worker: scores of ``(Z[pairs[0]], Z[pairs[1]])`` by the metric's own chunked loop."""
    return metric.score_prepared_pairs(Z, pairs[0], pairs[1], chunk_size=chunk_size)


def partition_length(partition_size: int, chunk_size: int) -> int:
    """``partition_size`` rounded up to a whole number of chunks."""
    check_params("", {"partition_size": partition_size, "chunk_size": chunk_size},
                 {"partition_size": [Interval("int", 1)], "chunk_size": [Interval("int", 1)]})
    return -(-int(partition_size) // int(chunk_size)) * int(chunk_size)


def score_pairs_on_dask(
    client: Any,
    metric: Any,
    X: Any,
    ia: Any,
    ib: Any,
    *,
    partition_size: int = DEFAULT_PARTITION,
    chunk_size: int = DEFAULT_CHUNK,
    on_progress: ProgressFn | None = None,
) -> np.ndarray:
    """``metric.score_pairs(X, ia, ib, chunk_size=chunk_size)``, computed on the workers of ``client``.

    A transductive metric prepares only the rows the pairs use (as ``facemetric score`` does).
    No yaw travels to the workers: a pose-aware metric (``uses_pose``) gives its pose-blind
    scores here (docs/adaptation.md); score it with the local driver to use the pose.
    """
    distributed = require_distributed()
    step = partition_length(partition_size, chunk_size)
    X = metric._check_dim(X, "descriptors")
    ia = np.asarray(ia)
    ib = np.asarray(ib)
    if ia.shape != ib.shape or ia.ndim != 1:
        raise InputError(f"{ia.size} first indices but {ib.size} second indices; give one of each per pair")
    m = ia.shape[0]
    out = np.empty(m, dtype=np.float64)
    if m == 0:
        return out
    if not (np.issubdtype(ia.dtype, np.integer) and np.issubdtype(ib.dtype, np.integer)):
        raise InputError(f"pair indices must be integers; got {ia.dtype} and {ib.dtype}")
    top = int(max(ia.max(), ib.max()))
    if min(int(ia.min()), int(ib.min())) < 0 or top >= X.shape[0]:
        raise InputError(f"a pair points at row {top} but there are only {X.shape[0]} descriptors")
    if getattr(metric, "transductive", False):
        X, ia, ib = restrict_to_pairs(X, ia, ib)
    index = np.int32 if X.shape[0] < 2**31 else np.int64
    Z = metric.prepare(X)
    metric_f, Z_f = client.scatter([metric, Z], broadcast=True, hash=False)
    run = uuid.uuid4().hex[:8]
    starts = iter(range(0, m, step))
    pending: dict[str, tuple[int, Any]] = {}  # task key -> (first pair, scattered indices)
    finished = distributed.as_completed()

    def submit_next() -> bool:
        start = next(starts, None)
        if start is None:
            return False
        part = np.stack([ia[start:start + step], ib[start:start + step]]).astype(index, copy=False)
        part_f = client.scatter(part, hash=False)
        fut = client.submit(score_partition, metric_f, Z_f, part_f, chunk_size, pure=False,
                            key=f"facemetric-score-{run}-{start}")
        pending[fut.key] = (start, part_f)
        finished.add(fut)
        return True

    window = 2 * n_workers(client) + 1
    for _ in range(window):
        if not submit_next():
            break
    done = 0
    if on_progress:
        on_progress(0, m)
    for fut in finished:
        start, _part_f = pending.pop(fut.key)
        scores = _result(fut)
        out[start:start + scores.shape[0]] = scores
        done += scores.shape[0]
        del fut, _part_f  # release the partition's data on the workers
        if on_progress:
            on_progress(done, m)
        submit_next()
    return out


def _result(fut: Any) -> np.ndarray:
    try:
        return fut.result()
    except ModuleNotFoundError as exc:
        raise ConfigError(f"a Dask worker cannot import {exc.name!r}; install the same facemetric "
                          "(pip install 'facemetric[scale]') and its model dependencies on every worker") from None


@dataclass
class ScaleScoreRun:
    """What :func:`score_pair_file` produced: scores in pair order, the pairs, figures when labelled."""

    scores: np.ndarray
    pairs: IndexPairs
    metric: Any
    result: Any = None  # VerificationResult when the pairs have labels
    config: dict[str, Any] = field(default_factory=dict)


def metric_for(descriptors: Any, model_dir: str | Path | None, method: str | None, flip: str | None):
    """(fitted metric, fused descriptors): a saved model, or a method that learns nothing."""
    from facemetric.experiments.driver import learns_something, make_method, model_flip, resolve_flip

    if model_dir is not None and method is not None:
        raise ConfigError("give either --model (a fitted model folder) or --method, not both")
    metric = make_method(method or "cosine", model_dir)
    if model_dir is None and learns_something(metric):
        raise ConfigError(f"method {method!r} must be fitted first; run `facemetric fit` and pass --model DIR")
    if flip is None:
        flip = model_flip(metric) if model_dir is not None else "auto"
    fused = descriptors.fused(resolve_flip(flip, descriptors))
    if model_dir is None:
        metric.fit(fused.X[:1])  # learns nothing; records the dimension
    metric.check_descriptors(fused)
    return metric, fused


@dataclass
class ScoringInputs:
    """A fitted metric, the fused descriptors and the pairs: everything checked before a cluster starts."""

    metric: Any
    descriptors: Any
    pairs: IndexPairs
    config: dict[str, Any]


def load_scoring_inputs(
    descriptors_path: str | Path,
    pairs_path: str | Path,
    *,
    model_dir: str | Path | None = None,
    method: str | None = None,
    flip: str | None = None,
    format: str | None = None,
) -> ScoringInputs:
    """Load and check the descriptors, the model (or metric) and the pairs; no cluster needed."""
    from facemetric.io import load_descriptors

    metric, fused = metric_for(load_descriptors(descriptors_path), model_dir, method, flip)
    pairs = load_index_pairs(pairs_path, fused, format=format)
    config = {
        "descriptors": str(descriptors_path), "pairs": str(pairs_path),
        "method": type(metric).__name__ if model_dir is not None else (method or "cosine"),
        "model": None if model_dir is None else str(model_dir),
        "flip": fused.provenance.flip_fusion, "engine": "dask.distributed",
    }
    return ScoringInputs(metric, fused, pairs, config)


def row_identity_pairs(descriptors: DescriptorSet, pairs: IndexPairs) -> tuple[np.ndarray, np.ndarray] | None:
    """The identities of both sides of every pair, for intervals that resample people; None (pairs are
    resampled, and the report says so) when the descriptors tell no identity."""
    from facemetric.identity import identities_of

    try:
        identities = identities_of(descriptors)
    except InputError:
        return None
    return identities[pairs.ia], identities[pairs.ib]


def score_inputs(
    client: Any,
    inputs: ScoringInputs,
    *,
    partition_size: int = DEFAULT_PARTITION,
    n_bootstrap: int = 0,
    seed: int = 0,
    on_progress: ProgressFn | None = None,
) -> ScaleScoreRun:
    """Score ``inputs`` on ``client``'s workers; evaluate when the pairs have labels."""
    pairs = inputs.pairs
    scores = score_pairs_on_dask(client, inputs.metric, inputs.descriptors.X, pairs.ia, pairs.ib,
                                 partition_size=partition_size, on_progress=on_progress)
    result = None
    if pairs.labels is not None:
        from facemetric.verify import evaluate_scores

        result = evaluate_scores(pairs.labels, scores, pairs.folds, groups=row_identity_pairs(inputs.descriptors, pairs),
                                 n_bootstrap=n_bootstrap, seed=seed)
    config = {**inputs.config, "partition_size": partition_size, "n_bootstrap": n_bootstrap, "seed": seed}
    return ScaleScoreRun(scores, pairs, inputs.metric, result, config)


def score_pair_file(
    client: Any,
    descriptors_path: str | Path,
    pairs_path: str | Path,
    *,
    model_dir: str | Path | None = None,
    method: str | None = None,
    flip: str | None = None,
    format: str | None = None,
    partition_size: int = DEFAULT_PARTITION,
    n_bootstrap: int = 0,
    seed: int = 0,
    on_progress: ProgressFn | None = None,
) -> ScaleScoreRun:
    """:func:`load_scoring_inputs` then :func:`score_inputs`."""
    inputs = load_scoring_inputs(descriptors_path, pairs_path, model_dir=model_dir, method=method, flip=flip,
                                 format=format)
    return score_inputs(client, inputs, partition_size=partition_size, n_bootstrap=n_bootstrap, seed=seed,
                        on_progress=on_progress)
