"""Build the ONNX models of a fitted metric: the pair score, the embedding, and the backbone + embedding fusion.

* :func:`score_model`: inputs ``a`` and ``b`` (N x D float32 descriptors, after flip fusion, as
  ``facemetric score`` takes them), output ``score`` (N), higher = same person;
* :func:`embedding_model`: input ``x`` (N x D), output ``embedding``: what ``metric.transform``
  returns (projection metrics);
* :func:`fused_model`: an ONNX backbone followed by the embedding, from the backbone's input (an
  aligned face as the backbone expects it) to the projected descriptor. When the metric was
  fitted on flip-fused descriptors, the graph runs the backbone on the face and on its mirror
  image and fuses the two (sum or concat) first, as extraction did.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from facemetric.errors import ConfigError, InputError
from facemetric.export.converters import converter_for
from facemetric.export.graph import MIN_OPSET, GraphBuilder, onnx_module
from facemetric.io.atomic import atomic_path, check_output_file

OPSET = 17
IR_VERSION = 8  # what onnxruntime has read for years; opset 17 needs IR 8


def _dim(metric: Any) -> int:
    metric._check_fitted()
    return int(metric.n_features_in_)


def score_model(metric: Any, opset: int = OPSET) -> Any:
    """ModelProto: ``score = metric.pair_score(a, b)``."""
    conv = converter_for(metric)
    d = _dim(metric)
    g = GraphBuilder(opset, dtype=np.float64 if conv.precise else np.float32)
    a, b = (g.cast(x, np.float64) if conv.precise else x for x in ("a", "b"))
    score = conv.score(g, conv.prepare(g, a), conv.prepare(g, b))
    if conv.precise:
        g.cast(score, np.float32, "score")
    else:
        g.node("Identity", [score], "score")
    return g.model([("a", ["N", d]), ("b", ["N", d])], [("score", ["N"])], ir_version=IR_VERSION,
                   doc=f"facemetric {type(metric).__name__}: pair score, higher = same person")


def embedding_model(metric: Any, opset: int = OPSET, *, prefix: str = "", input_name: str = "x") -> GraphBuilder:
    """The embedding graph (``input_name`` -> ``embedding``), not yet a model (see :func:`fused_model`)."""
    conv = converter_for(metric)
    g = GraphBuilder(opset, prefix)
    g.node("Identity", [conv.embedding(g, input_name)], "embedding")
    return g


def embedding_only_model(metric: Any, opset: int = OPSET) -> Any:
    """ModelProto: ``embedding = metric.transform(x)``."""
    d = _dim(metric)
    g = embedding_model(metric, opset)
    return g.model([("x", ["N", d])], [("embedding", ["N", None])], ir_version=IR_VERSION,
                   doc=f"facemetric {type(metric).__name__}: descriptor -> projected descriptor")


def _model_flip(metric: Any) -> str:
    flip = (getattr(metric, "provenance_", None) or {}).get("flip_fusion", "none")
    return flip if flip in ("none", "sum", "concat") else "none"


def fused_model(metric: Any, backbone_path: str | Path, flip: str | None = None) -> Any:
    """ModelProto: the backbone of ``backbone_path`` (one input, one output), then the embedding."""
    onnx = onnx_module()
    backbone_path = Path(backbone_path)
    if not backbone_path.is_file():
        raise InputError(f"{backbone_path}: does not exist; give the backbone's .onnx file")
    try:
        backbone = onnx.load(str(backbone_path))
    except Exception as exc:  # onnx raises DecodeError and friends
        raise InputError(f"{backbone_path}: is not a readable ONNX model ({exc})") from None
    graph = backbone.graph
    init_names = {i.name for i in graph.initializer}
    inputs = [i for i in graph.input if i.name not in init_names]
    if len(inputs) != 1 or len(graph.output) != 1:
        raise InputError(f"{backbone_path}: the backbone must have one input and one output; it has {len(inputs)} "
                         f"and {len(graph.output)}")
    opset = max((o.version for o in backbone.opset_import if o.domain in ("", "ai.onnx")), default=0)
    if opset < MIN_OPSET:
        raise InputError(f"{backbone_path}: the backbone uses opset {opset}; re-export it at opset {MIN_OPSET} or "
                         "newer")
    flip = _model_flip(metric) if flip is None else flip
    if flip not in ("none", "sum", "concat"):
        raise ConfigError(f"The '--flip' option must be none, sum or concat. Got {flip!r} instead.")
    out_dims = [d.dim_value for d in graph.output[0].type.tensor_type.shape.dim]
    d_out = out_dims[-1] if out_dims and out_dims[-1] > 0 else None
    d_metric = _dim(metric)
    if d_out is not None and d_out * (2 if flip == "concat" else 1) != d_metric:
        raise InputError(f"{backbone_path}: the backbone gives {d_out}-d descriptors but the metric expects "
                         f"{d_metric}-d ones (flip {flip}); export with the backbone the metric was fitted on")
    in_name, out_name = inputs[0].name, graph.output[0].name
    copies = [onnx.compose.add_prefix(backbone, f"bb{k}/") for k in range(1 if flip == "none" else 2)]
    g = embedding_model(metric, opset, prefix="m/", input_name="descriptor")
    nodes = [onnx.helper.make_node("Identity", ["image"], [f"bb0/{in_name}"], name="bb0/feed")]
    if flip != "none":
        starts, ends, axes, steps = (g.const([v], "int64") for v in (-1, -(2**63), 3, -1))
        nodes.append(onnx.helper.make_node("Slice", ["image", starts, ends, axes, steps], [f"bb1/{in_name}"],
                                           name="bb1/mirror"))
    for copy in copies:
        nodes.extend(copy.graph.node)
    outs = [f"bb{k}/{out_name}" for k in range(len(copies))]
    if flip == "none":
        nodes.append(onnx.helper.make_node("Identity", outs, ["descriptor"], name="fuse"))
    else:
        op = "Sum" if flip == "sum" else "Concat"
        attrs = {"axis": 1} if flip == "concat" else {}
        nodes.append(onnx.helper.make_node(op, outs, ["descriptor"], name="fuse", **attrs))
    nodes.extend(g.nodes)
    initializers = [i for copy in copies for i in copy.graph.initializer] + g.initializers
    in_shape = [d.dim_value or d.dim_param or None for d in inputs[0].type.tensor_type.shape.dim]
    image = onnx.helper.make_tensor_value_info("image", inputs[0].type.tensor_type.elem_type, in_shape)
    embedding = onnx.helper.make_tensor_value_info("embedding", onnx.TensorProto.FLOAT,
                                                   [in_shape[0] if in_shape else "N", None])
    fused = onnx.helper.make_graph(nodes, "facemetric_backbone_embedding", [image], [embedding], initializers)
    model = onnx.helper.make_model(fused, opset_imports=list(backbone.opset_import), ir_version=backbone.ir_version,
                                   producer_name="facemetric",
                                   doc_string=f"{backbone_path.name} + facemetric {type(metric).__name__} embedding "
                                              f"(flip {flip})")
    onnx.checker.check_model(model)
    return model


@dataclass
class ExportInfo:
    path: Path
    kind: str
    inputs: list[str]
    outputs: list[str]
    opset: int


def export_metric(model_dir: str | Path, out: str | Path, *, embedding: bool = False,
                  backbone: str | Path | None = None, flip: str | None = None) -> ExportInfo:
    """Load the model of ``model_dir``, build the requested graph, check it and write ``out`` atomically."""
    from facemetric.metrics.persist import load_model

    onnx = onnx_module()
    out = Path(out)
    if out.suffix != ".onnx":
        raise ConfigError(f"{out}: --out must end in .onnx")
    check_output_file(out)
    metric = load_model(model_dir)
    if backbone is not None:
        model, kind = fused_model(metric, backbone, flip), "backbone+embedding"
    elif embedding:
        model, kind = embedding_only_model(metric), "embedding"
    else:
        if flip is not None:
            raise ConfigError("--flip applies with --backbone only: the score graph takes fused descriptors")
        model, kind = score_model(metric), "score"
    onnx.checker.check_model(model)
    with atomic_path(out) as tmp:
        onnx.save(model, str(tmp))
    opset = max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    return ExportInfo(out, kind, [i.name for i in model.graph.input], [o.name for o in model.graph.output], opset)
