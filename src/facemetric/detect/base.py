"""What every face detector returns, and how one face is chosen when a photo has several.

Landmarks follow the ArcFace order, as seen in the image: left eye, right eye, nose tip,
left mouth corner, right mouth corner ("left" means smaller x on a frontal face).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from facemetric.errors import ConfigError, InputError

CHOOSE_POLICIES = ("largest", "central")
#: The face kept by default: chosen by measurement (docs/benchmarks.md, "Detector settings").
DEFAULT_POLICY = "central"


@dataclass(frozen=True)
class Face:
    """One detected face: ``box`` (4,) float32 x1, y1, x2, y2; ``score``; ``landmarks`` (5, 2) float32.

    ``dlib_shape`` is optional: the full output of a dlib shape predictor, (68, 2) or (5, 2)
    float32 in dlib's own point order, set only by the dlib detector. With it the dlib embedder
    gets dlib's exact chip (``dlib.get_face_chip``) instead of a 5-point similarity alignment.
    """

    box: np.ndarray
    score: float
    landmarks: np.ndarray
    dlib_shape: np.ndarray | None = None

    def __post_init__(self) -> None:
        box = np.asarray(self.box, dtype=np.float32).reshape(-1)
        lm = np.asarray(self.landmarks, dtype=np.float32)
        if box.shape != (4,):
            raise InputError(f"a face box must have 4 numbers x1, y1, x2, y2; got shape {box.shape}")
        if lm.shape != (5, 2):
            raise InputError(f"face landmarks must have shape (5, 2); got {lm.shape}")
        object.__setattr__(self, "box", box)
        object.__setattr__(self, "landmarks", lm)
        object.__setattr__(self, "score", float(self.score))
        if self.dlib_shape is not None:
            shape = np.asarray(self.dlib_shape, dtype=np.float32)
            if shape.shape not in ((68, 2), (5, 2)):
                raise InputError(f"a dlib shape must have shape (68, 2) or (5, 2); got {shape.shape}")
            object.__setattr__(self, "dlib_shape", shape)

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])

    @property
    def height(self) -> float:
        return float(self.box[3] - self.box[1])

    @property
    def area(self) -> float:
        return max(self.width, 0.0) * max(self.height, 0.0)

    @property
    def center(self) -> np.ndarray:
        return np.array([(self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2], np.float32)

    @property
    def eye_distance(self) -> float:
        return float(np.linalg.norm(self.landmarks[1] - self.landmarks[0]))

    def shifted(self, dx: float, dy: float, scale: float = 1.0) -> Face:
        """The same face in another frame: coordinates become ``(p - (dx, dy)) * scale``."""
        off = np.array([dx, dy], np.float32)
        box = (self.box.reshape(2, 2) - off) * scale
        shape = None if self.dlib_shape is None else (self.dlib_shape - off) * scale
        return Face(box=box.reshape(4), score=self.score, landmarks=(self.landmarks - off) * scale,
                    dlib_shape=shape)


@runtime_checkable
class Detector(Protocol):
    """A face detector: ``detect`` takes a uint8 RGB (H, W, 3) image and returns every face found.

    ``image_id`` lets detectors that look faces up (given landmarks) find the right entry;
    others ignore it.
    """

    name: str

    def detect(self, image_rgb: np.ndarray, image_id: str | None = None) -> list[Face]: ...


def check_image(image: np.ndarray, what: str = "image") -> np.ndarray:
    """Raise unless ``image`` is a non-empty uint8 (H, W, 3) array."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3 or 0 in image.shape:
        raise InputError(
            f"{what} must be a uint8 RGB array of shape (H, W, 3); got {image.dtype} {image.shape}; "
            "load it with facemetric.images.read_image"
        )
    return image


def choose_face(faces: Sequence[Face], image_shape: Sequence[int], policy: str = DEFAULT_POLICY) -> Face | None:
    """Pick one face, or None when there is none.

    * ``"largest"``: the face with the largest box area (ties: higher score). Right for
      portrait datasets where bystanders are smaller.
    * ``"central"``: the face whose box centre is nearest the image centre (ties: larger
      area). Right for datasets cropped around the subject, such as LFW, where a larger
      face can appear at the border.
    """
    if policy not in CHOOSE_POLICIES:
        raise ConfigError(f"The 'policy' parameter of choose_face must be one of {CHOOSE_POLICIES}; "
                          f"got {policy!r} instead")
    if not faces:
        return None
    if policy == "largest":
        return max(faces, key=lambda f: (f.area, f.score))
    h, w = int(image_shape[0]), int(image_shape[1])
    centre = np.array([w / 2.0, h / 2.0], np.float32)
    return min(faces, key=lambda f: (float(np.linalg.norm(f.center - centre)), -f.area))
