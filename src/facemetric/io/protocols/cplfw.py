"""CPLFW / CALFW pair lists (``pairs_CPLFW.txt``): two lines per pair, ``image label``.

Both lines of a pair carry the same label: 0 for a mismatched pair, a positive number for
a matched one (CALFW writes the pair's identity number there). Image ids are the names as
written (relative to the image folder); their file names, ``Name_Surname_3.jpg``, give the
identities. The 6,000 pairs are cut into 10 consecutive folds, as insightface evaluates them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facemetric.identity import identity_from_id
from facemetric.io.protocols.text import malformed, numbered_lines, parse_int
from facemetric.types import PairProtocol

N_FOLDS = 10


def load_cplfw(path: str | Path, n_folds: int = N_FOLDS) -> PairProtocol:
    """Two lines per pair; folds are ``n_folds`` consecutive blocks (none if fewer pairs)."""
    path = Path(path)
    lines = list(numbered_lines(path))
    if not lines:
        raise malformed(path, 1, "the file is empty", "give a CPLFW/CALFW pair list")
    if len(lines) % 2:
        raise malformed(path, lines[-1][0], f"{len(lines)} image lines is odd; every pair needs two lines")
    a, b, labels, first_lines = [], [], [], []
    for (no1, t1), (no2, t2) in zip(lines[0::2], lines[1::2]):
        first_lines.append(no1)
        for no, t in ((no1, t1), (no2, t2)):
            if len(t) != 2:
                raise malformed(path, no, f"expected 'image label'; got {len(t)} fields")
        l1 = parse_int(t1[1], path, no1, "label")
        l2 = parse_int(t2[1], path, no2, "label")
        if (l1 > 0) != (l2 > 0) or min(l1, l2) < 0:
            raise malformed(path, no2, f"the two lines of this pair disagree on its label ({l1} vs {l2})")
        a.append(t1[0])
        b.append(t2[0])
        labels.append(int(l1 > 0))
    m = len(a)
    folds = (np.arange(m) * n_folds) // m if m >= 2 * n_folds else None
    names_a, names_b = ([identity_from_id(i) for i in side] for side in (a, b))
    return PairProtocol.from_id_pairs(a, b, labels=labels, folds=folds, name=path.name, lines=first_lines,
                                      identities=(names_a, names_b))
