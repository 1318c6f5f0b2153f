"""Build an embedder from a spec string, as given on the command line."""

from __future__ import annotations

from facemetric.embed.base import Embedder
from facemetric.errors import ConfigError

SPECS = ("onnx:MODEL.onnx", "dlib")


def make_embedder(spec: str, **options) -> Embedder:
    """``"onnx:PATH.onnx"`` (options: color_order, mean, std, template, batch_size, threads) or
    ``"dlib"`` (option: num_jitters)."""
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"The embedder spec must be one of {', '.join(SPECS)}; got {spec!r} instead")
    kind, _, arg = spec.strip().partition(":")
    kind = kind.lower()
    if kind == "onnx":
        from facemetric.embed.onnx_arcface import OnnxArcFaceEmbedder

        if not arg:
            raise ConfigError(f"the embedder spec {spec!r} needs a model after ':', e.g. onnx:model.onnx")
        return _build(OnnxArcFaceEmbedder, spec, arg, **options)
    if kind == "dlib":
        from facemetric.embed.dlib_resnet import DlibResnetEmbedder

        if arg:
            raise ConfigError(f"The embedder spec 'dlib' takes no argument; got {spec!r} instead")
        options.pop("threads", None)
        return _build(DlibResnetEmbedder, spec, **options)
    raise ConfigError(f"unknown embedder {kind!r} in spec {spec!r}; use one of {', '.join(SPECS)}")


def _build(cls, spec: str, *args, **options) -> Embedder:
    import inspect

    allowed = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "model_path")]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ConfigError(f"embedder {spec!r} has no option {unknown[0]!r}; "
                          f"its options are {', '.join(allowed)}")
    return cls(*args, **options)
