"""A small builder of ONNX graphs over the ``onnx`` package's helpers, for one opset.

Tensor names are generated (``t0``, ``t1``...) unless given; constants become initializers.
The few operators whose signature changed across opsets (the reductions, whose axes moved from
an attribute to an input) are written for the builder's opset, so that a metric graph can join a
backbone exported at an older opset.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from facemetric.errors import require

MIN_OPSET = 10  # TopK with k as an input, Slice with steps


def onnx_module() -> Any:
    return require("onnx", "export")


class GraphBuilder:
    """Collect nodes and initializers; ``model(inputs, outputs)`` makes the ModelProto."""

    def __init__(self, opset: int = 17, prefix: str = "", dtype=np.float32) -> None:
        self.onnx = onnx_module()
        self.opset = int(opset)
        self.prefix = prefix
        self.dtype = np.dtype(dtype)  # of every float constant and intermediate tensor
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._n = 0

    def name(self, hint: str = "t") -> str:
        self._n += 1
        return f"{self.prefix}{hint}{self._n}"

    def node(self, op: str, inputs: list[str], out: str | None = None, **attrs: Any) -> str:
        out = out or self.name(op.lower())
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [out], name=self.name("n_"), **attrs))
        return out

    def const(self, value: Any, dtype=None, hint: str = "c") -> str:
        arr = np.ascontiguousarray(np.asarray(value, dtype=self.dtype if dtype is None else dtype))
        name = self.name(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(arr, name))
        return name

    # --- operators ---------------------------------------------------------------------------
    def _reduce(self, op: str, x: str, axis: int, keepdims: bool, axes_input_from: int) -> str:
        if self.opset >= axes_input_from:
            return self.node(op, [x, self.const([axis], np.int64)], keepdims=int(keepdims))
        return self.node(op, [x], axes=[axis], keepdims=int(keepdims))

    def reduce_sum(self, x: str, axis: int = 1, keepdims: bool = False) -> str:
        return self._reduce("ReduceSum", x, axis, keepdims, 13)

    def reduce_mean(self, x: str, axis: int = 1, keepdims: bool = False) -> str:
        return self._reduce("ReduceMean", x, axis, keepdims, 18)

    def add(self, a: str, b: str) -> str:
        return self.node("Add", [a, b])

    def sub(self, a: str, b: str) -> str:
        return self.node("Sub", [a, b])

    def mul(self, a: str, b: str) -> str:
        return self.node("Mul", [a, b])

    def div(self, a: str, b: str) -> str:
        return self.node("Div", [a, b])

    def matmul(self, a: str, b: str) -> str:
        return self.node("MatMul", [a, b])

    def project(self, x: str, components: np.ndarray) -> str:
        """``x @ components.T`` for a (k, d) components matrix."""
        return self.matmul(x, self.const(np.asarray(components).T))

    def l2_normalize(self, x: str, eps: float = 1e-12) -> str:
        """``x / max(||x||, eps)`` row by row, as :func:`facemetric.metrics.base.l2_normalize`."""
        norm = self.node("Sqrt", [self.reduce_sum(self.mul(x, x), 1, keepdims=True)])
        return self.div(x, self.node("Max", [norm, self.const(eps)]))

    def cast(self, x: str, dtype, out: str | None = None) -> str:
        to = self.onnx.TensorProto.DOUBLE if np.dtype(dtype) == np.float64 else self.onnx.TensorProto.FLOAT
        return self.node("Cast", [x], out, to=to)

    def rowwise_dot(self, a: str, b: str) -> str:
        return self.reduce_sum(self.mul(a, b), 1)

    def sq_norms(self, x: str, keepdims: bool = False) -> str:
        return self.reduce_sum(self.mul(x, x), 1, keepdims)

    def columns(self, x: str, start: int, end: int) -> str:
        """Columns ``start:end`` of a 2-D tensor (negative numbers count from the end)."""
        return self.node("Slice", [x, self.const([start], np.int64), self.const([end], np.int64),
                                   self.const([1], np.int64)])

    def topk(self, x: str, k: int) -> str:
        out, idx = self.name("topk"), self.name("topk_i")
        self.nodes.append(self.onnx.helper.make_node("TopK", [x, self.const([k], np.int64)], [out, idx],
                                                     name=self.name("n_"), axis=1))
        return out

    def model(self, inputs: list[tuple[str, list]], outputs: list[tuple[str, list]], *, ir_version: int | None = None,
              doc: str = "") -> Any:
        helper, tp = self.onnx.helper, self.onnx.TensorProto
        graph = helper.make_graph(
            self.nodes, "facemetric", [helper.make_tensor_value_info(n, tp.FLOAT, shape) for n, shape in inputs],
            [helper.make_tensor_value_info(n, tp.FLOAT, shape) for n, shape in outputs], self.initializers,
        )
        kwargs = {"opset_imports": [helper.make_opsetid("", self.opset)], "producer_name": "facemetric",
                  "doc_string": doc}
        if ir_version is not None:
            kwargs["ir_version"] = ir_version
        return helper.make_model(graph, **kwargs)
