"""Shared fixtures. Real data lives in ../shared/data (next to the repository) and is never copied here.

Tests that need it use the ``shared_data`` fixture (or the ones built on it), which skips
with a clear reason when the folder is absent. Set FACEMETRIC_SHARED to point elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("FACEMETRIC_SHARED", REPO.parent / "shared")) / "data"
LFW_DESCRIPTORS = SHARED_DATA / "lfw" / "descriptors_mobilefacenet_112x96.npz"

# Tests run single-threaded BLAS by default: the machines have 2 cores shared by many jobs.
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("FACEMETRIC_NO_PROGRESS", "1")


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data not found at {path}; place the shared data folder beside the repository "
                    "or set FACEMETRIC_SHARED")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The ../shared/data folder, or skip."""
    return _need(SHARED_DATA)


@pytest.fixture(scope="session")
def lfw_dir(shared_data: Path) -> Path:
    """../shared/data/lfw: images/, pairs.txt, pairsDev*.txt, landmarks_mtcnn_5pt.txt."""
    return _need(shared_data / "lfw")


@pytest.fixture(scope="session")
def models_dir(shared_data: Path) -> Path:
    """../shared/data/models: the ONNX face models."""
    return _need(shared_data / "models")


@pytest.fixture(scope="session")
def lfw_descriptors():
    """The reference LFW descriptors as a DescriptorSet (with flipped descriptors)."""
    from facemetric.io import load_descriptors

    return load_descriptors(_need(LFW_DESCRIPTORS))
