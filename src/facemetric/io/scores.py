"""Per-pair scores on disk: a ``pair_id,score`` CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facemetric.io.atomic import atomic_open


def write_scores_csv(path: str | Path, pair_ids: np.ndarray, scores: np.ndarray) -> Path:
    """``pair_id,score`` rows (9 significant digits), written atomically."""
    path = Path(path)
    with atomic_open(path, "w") as fh:
        fh.write("pair_id,score\n")
        for pid, s in zip(pair_ids.tolist(), scores.tolist()):
            fh.write(f"{pid},{s:.9g}\n")
    return path
