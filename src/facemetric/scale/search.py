"""1:N search over a gallery sharded across Dask workers.

The gallery columns are cut into shards; each task runs the same blocked search
(:func:`facemetric.identification.engine.search_range`) of every probe against one shard, on a
worker. The probes, the scorer and the per-probe mate arrays are broadcast once; each shard's
rows travel once. The client merges the shards' running top-k lists and adds their counts
(:func:`~facemetric.identification.engine.merge_partials`): the result is the one a single
process computes. Pass :class:`DaskSearchRunner` as ``runner`` to
:func:`facemetric.identification.search.search` or :func:`~facemetric.identification.search.topk_search`.
"""

from __future__ import annotations

import uuid
from typing import Any, Callable

import numpy as np

from facemetric.errors import ConfigError
from facemetric.identification.engine import GalleryRows, Partial, merge_partials, search_range
from facemetric.scale.cluster import n_workers, require_distributed
from facemetric.scale.score import _result


class DaskSearchRunner:
    """Run the blocked search on ``client``'s workers, ``n_shards`` gallery shards (default: 2 per worker)."""

    def __init__(self, client: Any, n_shards: int | None = None,
                 on_shard: Callable[[int, int], None] | None = None) -> None:
        if n_shards is not None and (not isinstance(n_shards, int) or isinstance(n_shards, bool) or n_shards < 1):
            raise ConfigError(f"The 'n_shards' parameter must be an int >= 1. Got {n_shards!r} instead.")
        self.client = client
        self.n_shards = n_shards
        self.on_shard = on_shard

    def __call__(self, score_block: Any, probes: np.ndarray, gallery: GalleryRows, lo: int, hi: int,
                 **options: Any) -> Partial:
        distributed = require_distributed()
        options.pop("on_block", None)  # progress is reported per shard here
        n = self.n_shards or 2 * n_workers(self.client)
        edges = np.unique(np.linspace(lo, hi, min(n, max(hi - lo, 1)) + 1).astype(np.int64))
        arrays = {key: value for key, value in options.items() if isinstance(value, np.ndarray)}
        scattered = self.client.scatter([score_block, probes, *arrays.values()], broadcast=True, hash=False)
        score_f, probes_f, *array_f = scattered
        options = {**options, **dict(zip(arrays, array_f))}
        run = uuid.uuid4().hex[:8]
        futures = []
        for a, b in zip(edges[:-1].tolist(), edges[1:].tolist()):
            shard_f = self.client.scatter(gallery.shard(a, b), hash=False)
            futures.append(self.client.submit(search_range, score_f, probes_f, shard_f, a, b, **options,
                                              pure=False, key=f"facemetric-search-{run}-{a}"))
        parts, done = [], 0
        for fut in distributed.as_completed(futures):
            parts.append(_result(fut))
            done += 1
            if self.on_shard is not None:
                self.on_shard(done, len(futures))
        return merge_partials(parts)
