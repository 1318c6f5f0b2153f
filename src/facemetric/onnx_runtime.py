"""Open ONNX models with onnxruntime on the CPU."""

from __future__ import annotations

from pathlib import Path

from facemetric.errors import ConfigError, bad_file, require


def open_session(path: str | Path, threads: int | None = None, what: str = "model"):
    """An onnxruntime CPU session for ``path``.

    ``threads`` caps intra-op threads (None: onnxruntime's default).
    """
    ort = require("onnxruntime", "images")
    path = Path(path)
    if not path.is_file():
        raise bad_file(path, f"no such ONNX {what} file", "check the path after the ':' in the spec")
    if threads is not None and threads < 1:
        raise ConfigError(f"The 'threads' parameter must be a positive integer or None; "
                          f"got {threads!r} instead")
    opts = ort.SessionOptions()
    if threads is not None:
        opts.intra_op_num_threads = int(threads)
        opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
        raise bad_file(path, f"onnxruntime cannot load this {what} ({exc.__class__.__name__})",
                       "check that it is a valid .onnx file") from exc
