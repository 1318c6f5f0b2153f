"""Build a detector from a spec string, as given on the command line."""

from __future__ import annotations

from facemetric.detect.base import Detector
from facemetric.errors import ConfigError

SPECS = ("scrfd:MODEL.onnx", "yunet:MODEL.onnx", "dlib", "landmarks:FILE")


def make_detector(spec: str, *, pad: float | None = None, threads: int | None = None,
                  score_threshold: float | None = None,
                  input_size: tuple[int, int] | None = None) -> Detector:
    """``"scrfd:PATH.onnx"``, ``"yunet:PATH.onnx"``, ``"dlib"`` or ``"landmarks:FILE"``.

    ``pad`` is the black border added on every side before detecting, as a fraction of the
    longer image side (default 0.5 for scrfd and yunet, 0.25 for dlib, none for given
    landmarks); see :mod:`facemetric.detect.padded`. ``threads`` caps onnxruntime threads.
    ``input_size`` (w, h) is the network canvas of ONNX models with a dynamic input shape
    (default 640x640; 320x320 is about 3x faster and enough for faces over ~40 px).
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"The detector spec must be one of {', '.join(SPECS)}; got {spec!r} instead")
    kind, _, arg = spec.strip().partition(":")
    kind = kind.lower()
    kwargs = {} if score_threshold is None else {"score_threshold": score_threshold}
    if input_size is not None:
        if kind not in ("scrfd", "yunet"):
            raise ConfigError(f"input_size applies to scrfd and yunet detectors only; got spec {spec!r}")
        kwargs["input_size"] = tuple(input_size)
    if kind == "scrfd":
        from facemetric.detect.scrfd import ScrfdDetector

        detector, default_pad = ScrfdDetector(_need_path(spec, arg), threads=threads, **kwargs), 0.5
    elif kind == "yunet":
        from facemetric.detect.yunet import YunetDetector

        detector, default_pad = YunetDetector(_need_path(spec, arg), threads=threads, **kwargs), 0.5
    elif kind == "dlib":
        from facemetric.detect.dlib_hog import DlibHogDetector

        if arg:
            raise ConfigError(f"The detector spec 'dlib' takes no argument; got {spec!r} instead")
        detector, default_pad = DlibHogDetector(), 0.25
    elif kind == "landmarks":
        from facemetric.detect.landmarks_file import LandmarksFileDetector

        if pad:
            raise ConfigError("given landmarks are in the original image's pixels; padding does not apply")
        return LandmarksFileDetector(_need_path(spec, arg))
    else:
        raise ConfigError(f"unknown detector {kind!r} in spec {spec!r}; use one of {', '.join(SPECS)}")
    pad = default_pad if pad is None else pad
    if not pad:
        return detector
    from facemetric.detect.padded import PaddedDetector

    return PaddedDetector(detector, pad)


def _need_path(spec: str, arg: str) -> str:
    if not arg:
        kind = spec.split(":")[0]
        raise ConfigError(f"the detector spec {spec!r} needs a file after ':', e.g. {kind}:model.onnx")
    return arg
