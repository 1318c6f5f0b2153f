"""Build a detector from a spec string, as given on the command line."""

from __future__ import annotations

import re

from facemetric.detect.base import Detector
from facemetric.detect.canvas import DEFAULT_PAD, CanvasRule, is_canvas, parse_canvas
from facemetric.errors import ConfigError

SPECS = ("scrfd:MODEL.onnx[@SIZE]", "yunet:MODEL.onnx[@SIZE]", "dlib[@UPSAMPLE]", "landmarks:FILE")
_LEVELS = re.compile(r"^\d+(?:,\d+)*$")


def split_spec(spec: str) -> tuple[str, str, str | None]:
    """``"scrfd:m.onnx@320"`` -> ("scrfd", "m.onnx", "320"); ``"dlib@0,1"`` -> ("dlib", "", "0,1").

    The ``@`` suffix is a canvas (N, WxH or maxN) for scrfd/yunet and upsample levels for dlib;
    an ``@`` followed by anything else is left in the path.
    """
    kind, _, arg = spec.strip().partition(":")
    kind, at, suffix = kind.partition("@") if "@" in kind else (kind, "", "")
    if at:
        return kind.lower(), arg, suffix
    head, at, tail = arg.rpartition("@")
    if at and (is_canvas(tail) or _LEVELS.match(tail)):
        return kind.lower(), head, tail
    return kind.lower(), arg, None


def portable_spec(spec: str) -> tuple[str, str | None]:
    """The spec as provenance records it: a model or landmark file reduced to its file name, plus
    the SHA-256 prefix of that file (None when the spec names no file).

    ``"scrfd:/home/me/models/s.onnx@320"`` -> ("scrfd:s.onnx@320", "3f2a..."): no machine's paths.
    """
    from pathlib import Path

    from facemetric.io.digest import file_digest

    kind, arg, suffix = split_spec(spec)
    if not arg:
        return spec.strip(), None
    path = Path(arg)
    digest = file_digest(path, length=16) if path.is_file() else None
    return f"{kind}:{path.name}" + ("" if suffix is None else f"@{suffix}"), digest


def compose_spec(spec: str, *, det_size: str | None = None, upsample: str | None = None) -> str:
    """Fold command-line ``--det-size`` / ``--upsample`` into a detector spec and check its syntax
    (without loading any model): ``("scrfd:m.onnx", det_size="320")`` -> ``"scrfd:m.onnx@320"``."""
    from facemetric.detect.dlib_hog import parse_upsample

    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"The detector spec must be one of {', '.join(SPECS)}; got {spec!r} instead")
    kind, arg, suffix = split_spec(spec)
    known = ("scrfd", "yunet", "dlib", "landmarks")
    if kind not in known:
        raise ConfigError(f"unknown detector {kind!r} in spec {spec!r}; use one of {', '.join(SPECS)}")
    if det_size is not None:
        if kind not in ("scrfd", "yunet"):
            raise ConfigError(f"--det-size applies to scrfd and yunet detectors only; got --detector "
                              f"{spec!r}")
        if suffix is not None:
            raise ConfigError(f"give the detector size either in the spec ({spec!r}) or as --det-size, not "
                              f"both")
        suffix = parse_canvas(det_size, "--det-size").label
    if upsample is not None:
        if kind != "dlib":
            raise ConfigError(f"--upsample applies to the dlib detector only; got --detector {spec!r}")
        if suffix is not None:
            raise ConfigError(f"give dlib's upsample either in the spec ({spec!r}) or as --upsample, not "
                              f"both")
        suffix = upsample
    if suffix is not None:
        if kind in ("scrfd", "yunet"):
            parse_canvas(suffix, f"size after '@' in detector spec {spec!r}")
        elif kind == "dlib":
            parse_upsample(suffix)
        else:
            raise ConfigError(f"the detector spec {spec!r} takes no '@' suffix (only scrfd, yunet and dlib "
                              f"do)")
    if kind == "dlib" and arg:
        raise ConfigError(f"The detector spec 'dlib' takes no argument; got {spec!r} instead")
    if kind != "dlib" and not arg:
        _need_path(spec, arg)
    added = det_size is not None or upsample is not None
    return f"{spec.strip()}@{suffix}" if added else spec.strip()


def make_detector(spec: str, *, pad: float | None = None, threads: int | None = None,
                  score_threshold: float | None = None,
                  input_size: tuple[int, int] | None = None, upsample=None) -> Detector:
    """``"scrfd:PATH.onnx"``, ``"yunet:PATH.onnx"``, ``"dlib"`` or ``"landmarks:FILE"``.

    Spec suffixes: ``scrfd:PATH.onnx@max640`` (the image at its own size, scaled down to 640 at
    most; the default is ``max320``, ``canvas.DEFAULT_MAX_SIDE``), ``@320`` or ``@640x480`` (a fixed canvas the image is resized to fit,
    up or down) set the canvas (:mod:`facemetric.detect.canvas`); ``dlib@1`` or ``dlib@0,1`` sets
    dlib's ``upsample`` levels (the next level is tried only when the previous found no face). A
    suffix and the matching keyword must not both be given.

    ``pad`` is the black border added on every side before detecting, as a fraction of the
    longer image side (defaults in ``canvas.DEFAULT_PAD``: 0.25 for scrfd, 0.5 for yunet,
    0.25 for dlib, none for given landmarks); see :mod:`facemetric.detect.padded`. ``threads`` caps
    onnxruntime threads. ``input_size`` (w, h) asks for a fixed canvas, as ``@WxH`` does.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"The detector spec must be one of {', '.join(SPECS)}; got {spec!r} instead")
    kind, arg, suffix = split_spec(spec)
    canvas: CanvasRule | None = None
    if suffix is not None:
        if kind in ("scrfd", "yunet"):
            if input_size is not None:
                raise ConfigError(f"give the detector size either in the spec ({spec!r}) or as --det-size, "
                                  f"not both")
            canvas = parse_canvas(suffix, f"size after '@' in detector spec {spec!r}")
        elif kind == "dlib":
            if upsample is not None:
                raise ConfigError(f"give dlib's upsample either in the spec ({spec!r}) or as --upsample, "
                                  f"not both")
            upsample = suffix
        else:
            raise ConfigError(f"the detector spec {spec!r} takes no '@' suffix (only scrfd, yunet and dlib "
                              f"do)")
    if upsample is not None and kind != "dlib":
        raise ConfigError(f"upsample (--upsample) applies to the dlib detector only; got spec {spec!r}")
    kwargs = {} if score_threshold is None else {"score_threshold": score_threshold}
    if input_size is not None:
        if kind not in ("scrfd", "yunet"):
            raise ConfigError(f"input_size applies to scrfd and yunet detectors only (--det-size); got spec "
                              f"{spec!r}")
        canvas = CanvasRule(size=tuple(input_size), upscale=True)
    if canvas is not None:
        kwargs["canvas"] = canvas
    if kind == "scrfd":
        from facemetric.detect.scrfd import ScrfdDetector

        detector = ScrfdDetector(_need_path(spec, arg), threads=threads, **kwargs)
    elif kind == "yunet":
        from facemetric.detect.yunet import YunetDetector

        detector = YunetDetector(_need_path(spec, arg), threads=threads, **kwargs)
    elif kind == "dlib":
        from facemetric.detect.dlib_hog import DlibHogDetector

        if arg:
            raise ConfigError(f"The detector spec 'dlib' takes no argument; got {spec!r} instead")
        detector = DlibHogDetector(**({} if upsample is None else {"upsample": upsample}))
    elif kind == "landmarks":
        from facemetric.detect.landmarks_file import LandmarksFileDetector

        if pad:
            raise ConfigError("given landmarks are in the original image's pixels; padding does not apply")
        return LandmarksFileDetector(_need_path(spec, arg))
    else:
        raise ConfigError(f"unknown detector {kind!r} in spec {spec!r}; use one of {', '.join(SPECS)}")
    pad = DEFAULT_PAD[kind] if pad is None else pad
    if not pad:
        return detector
    from facemetric.detect.padded import PaddedDetector

    return PaddedDetector(detector, pad)


def _need_path(spec: str, arg: str) -> str:
    if not arg:
        kind = spec.split(":")[0]
        raise ConfigError(f"the detector spec {spec!r} needs a file after ':', e.g. {kind}:model.onnx")
    return arg
