"""Evaluation protocols for learned metrics.

* :func:`identity_disjoint_kfold`: each fold scored by a metric fitted on identities absent from it;
* :func:`train_test_scores`: fit on one descriptor set, score a protocol on another (warns on overlap);
* :func:`run_benchmark`: a grid of methods over one protocol, with the change against cosine;
* :func:`build_cross_pose_protocol`: a CPLFW-like cross-pose protocol from landmarks and descriptors.

Names are imported lazily, so that the yaw and protocol builders load without the metrics.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BenchmarkRun": "benchmark",
    "run_benchmark": "benchmark",
    "CrossPoseConfig": "cross_pose",
    "CrossPoseProtocol": "cross_pose",
    "build_cross_pose_protocol": "cross_pose",
    "identities_of": "identities",
    "with_identities": "identities",
    "identity_disjoint_kfold": "kfold",
    "MethodSpec": "methods",
    "parse_methods": "methods",
    "ProtocolScores": "scores",
    "IdentityOverlapWarning": "train_test",
    "train_test_scores": "train_test",
    "estimate_yaw": "yaw",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'facemetric.protocols' has no attribute {name!r}")
    return getattr(importlib.import_module(f"facemetric.protocols.{_EXPORTS[name]}"), name)
