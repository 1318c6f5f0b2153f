"""Tiny stand-ins for a detector and an embedder, and synthetic images they understand.

The "face" in a synthetic image is its bright square; the fake detector finds it and puts 5
landmarks at fixed places inside it. The fake embedder describes a crop by its mean colour and
its left-minus-right brightness, so a mirrored crop flips the sign of the last component.
Embedder calls are counted in the file named by $FAKE_EMBED_LOG (one line per crop), which works
across processes.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from facemetric.detect.base import Face

REL_LANDMARKS = np.array([[0.3, 0.35], [0.7, 0.35], [0.5, 0.55], [0.35, 0.75], [0.65, 0.75]], np.float32)


def synthetic_image(path: Path, seed: int, face: int | None = 60, size: int = 120) -> None:
    """Write a noisy dark PNG/JPEG with a bright ``face`` x ``face`` square (none if ``face`` is None)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    img = rng.integers(0, 80, (size, size, 3), dtype=np.uint8)
    if face:
        x0 = int(rng.integers(5, size - face - 5))
        y0 = int(rng.integers(5, size - face - 5))
        patch = rng.integers(200, 256, (face, face, 3), dtype=np.uint8)
        patch[:, : face // 2] = np.clip(patch[:, : face // 2].astype(int) - (seed % 7) * 5, 200, 255)
        img[y0:y0 + face, x0:x0 + face] = patch
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img).save(path)


class FakeDetector:
    name = "fake-bright-square"

    def detect(self, image_rgb: np.ndarray, image_id: str | None = None) -> list[Face]:
        ys, xs = np.nonzero(image_rgb.min(axis=2) >= 200)
        if xs.size == 0:
            return []
        x1, y1, x2, y2 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
        lm = np.array([x1, y1], np.float32) + REL_LANDMARKS * np.array([x2 - x1, y2 - y1], np.float32)
        return [Face(box=np.array([x1, y1, x2, y2], np.float32), score=1.0, landmarks=lm)]


def describe_crops(crops: np.ndarray) -> np.ndarray:
    """The fake descriptor, computed directly (the reference for the tests)."""
    c = crops.astype(np.float32)
    w = c.shape[2]
    mean = c.reshape(len(c), -1, 3).mean(axis=1)
    lr = c[:, :, : w // 2].mean(axis=(1, 2, 3)) - c[:, :, w - w // 2:].mean(axis=(1, 2, 3))
    return np.concatenate([mean, lr[:, None]], axis=1).astype(np.float32)


class FakeEmbedder:
    name = "fake-mean-colour"
    input_size = (112, 112)
    color_order = "RGB"
    mean = 0.0
    std = 1.0
    dim = 4
    template = "arcface112"
    model_hash = "fake0001"

    def __init__(self, delay: float = 0.0, fail_after: int | None = None):
        self.delay = delay
        self.fail_after = fail_after
        self.calls = 0

    def embed(self, crops: np.ndarray) -> np.ndarray:
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise KeyboardInterrupt("simulated interruption")
        log = os.environ.get("FAKE_EMBED_LOG")
        if log:
            with open(log, "a") as fh:
                fh.write("".join(f"{os.getpid()}\n" for _ in range(len(crops))))
        if self.delay:
            time.sleep(self.delay)
        return describe_crops(crops)


def embedded_count(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0
