"""insightface ``.bin`` validation sets (lfw.bin, cfp_fp.bin, agedb_30.bin...).

The file is a pickle of ``(bins, issame_list)``: ``2 * M`` encoded images (JPEG/PNG bytes)
and ``M`` booleans; image ``2k`` and ``2k+1`` form pair ``k``. It is read with a
restricted unpickler that builds only bytes, lists, tuples, bools and numpy booleans:
any other class in the file is refused, so a malicious file cannot run code.

Image ids are ``NNNNNN.jpg`` (the index in the file); pairs are cut into 10 consecutive
folds, as insightface evaluates them.
"""

from __future__ import annotations

import io
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from facemetric.errors import ProtocolError
from facemetric.types import PairProtocol

N_FOLDS = 10


def _bool_dtype(name: Any, *args: Any) -> np.dtype:
    dt = np.dtype(name, *args)
    if dt != np.bool_:
        raise pickle.UnpicklingError(f"numpy dtype {dt} is not allowed (only bool)")
    return dt


def _codecs_encode(text: str, encoding: str = "latin1") -> bytes:
    """How protocol-2 pickles written by Python 3 store ``bytes``."""
    if not isinstance(text, str):
        raise pickle.UnpicklingError("_codecs.encode on a non-string")
    return text.encode(encoding)


_ALLOWED = {
    ("numpy", "dtype"): _bool_dtype,
    ("numpy.core.multiarray", "scalar"): None,
    ("numpy._core.multiarray", "scalar"): None,
    ("_codecs", "encode"): _codecs_encode,
    ("builtins", "bool"): bool,
    ("__builtin__", "bool"): bool,
}


class RestrictedUnpickler(pickle.Unpickler):
    """Refuses every global except numpy's bool scalars and bytes helpers."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in an insightface .bin file")
        target = _ALLOWED[(module, name)]
        if target is None:
            from numpy._core.multiarray import scalar

            return scalar
        return target


@dataclass(frozen=True)
class BinDataset:
    """A protocol plus the encoded bytes of each image (``images[i]`` is ``protocol.images[i]``)."""

    protocol: PairProtocol
    images: list[bytes]


def load_bin(path: str | Path, n_folds: int = N_FOLDS) -> BinDataset:
    """Read an insightface ``.bin`` safely; return the protocol and the encoded images."""
    path = Path(path)
    if not path.is_file():
        raise ProtocolError(f"{path}: does not exist; check the .bin path")
    try:
        with open(path, "rb") as fh:
            data = RestrictedUnpickler(io.BufferedReader(fh), encoding="bytes").load()
    except pickle.UnpicklingError as exc:
        raise ProtocolError(f"{path}: not a plain insightface .bin ({exc}); refusing to load it") from exc
    except (EOFError, ValueError, TypeError, IndexError, AttributeError, MemoryError) as exc:
        raise ProtocolError(
            f"{path}: not a readable insightface .bin ({exc.__class__.__name__}); it may be truncated"
        ) from exc
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise ProtocolError(f"{path}: expected a pickle of (bins, issame_list); got {type(data).__name__}")
    bins, issame = data
    if not isinstance(bins, (list, tuple)) or not all(isinstance(x, (bytes, bytearray)) for x in bins):
        raise ProtocolError(f"{path}: bins must be a list of encoded images (bytes)")
    if not isinstance(issame, (list, tuple)) or not all(isinstance(x, (bool, np.bool_)) for x in issame):
        raise ProtocolError(f"{path}: issame_list must be a list of booleans")
    m = len(issame)
    if m == 0:
        raise ProtocolError(f"{path}: the protocol has no pairs")
    if len(bins) != 2 * m:
        raise ProtocolError(f"{path}: {len(bins)} images for {m} pairs; need exactly two images per pair")
    images = np.array([f"{i:06d}.jpg" for i in range(2 * m)])
    folds = (np.arange(m) * n_folds) // m if m >= 2 * n_folds else None
    protocol = PairProtocol(
        images=images,
        pairs=np.arange(2 * m).reshape(m, 2),
        labels=np.array(issame, dtype=np.int8),
        folds=folds,
        name=path.name,
    )
    return BinDataset(protocol=protocol, images=[bytes(x) for x in bins])
