"""Scale-out on an existing distributed engine (Dask distributed), never a home-made one.

* :mod:`facemetric.scale.cluster`: connect to a scheduler (``tcp://HOST:PORT``) or start a
  loopback ``LocalCluster``; one-line errors for a missing ``dask`` or an unreachable scheduler.
* :mod:`facemetric.scale.pairs`: read a very large pair list (``.npy``/``.npz`` of row indices,
  or any protocol file) as row indices into a descriptor set.
* :mod:`facemetric.scale.score`: score partitions of pairs on Dask workers with the model's
  ``score_prepared``; the prepared descriptors and the model are broadcast once.
* :mod:`facemetric.scale.extract`: map batches of images to Dask workers that each build their
  detector and embedder once; the client keeps the extraction cache, so resume still works.

``dask`` and ``distributed`` are optional: ``pip install 'facemetric[scale]'``.
"""

from facemetric.scale.cluster import DEFAULT_CONNECT_TIMEOUT, dask_client
from facemetric.scale.extract import DaskRunner, extract_descriptors_on_dask, extract_to_file_on_dask
from facemetric.scale.pairs import IndexPairs, load_index_pairs
from facemetric.scale.score import load_scoring_inputs, score_inputs, score_pair_file, score_pairs_on_dask

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT", "DaskRunner", "IndexPairs", "dask_client", "extract_descriptors_on_dask",
    "extract_to_file_on_dask", "load_index_pairs", "load_scoring_inputs", "score_inputs", "score_pair_file",
    "score_pairs_on_dask",
]
