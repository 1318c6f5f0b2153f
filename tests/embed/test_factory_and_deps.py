"""make_embedder specs, and missing optional dependencies naming the extra."""

from __future__ import annotations

import sys

import pytest

from facemetric.embed import make_embedder
from facemetric.errors import ConfigError, InputError, MissingDependencyError


@pytest.mark.parametrize("spec,needle", [("", "must be one of"), ("torch:x", "unknown embedder 'torch'"),
                                         ("onnx", "needs a model"), ("dlib:x", "takes no argument")])
def test_bad_specs(spec, needle):
    with pytest.raises(ConfigError) as info:
        make_embedder(spec)
    assert needle in str(info.value)


def test_missing_model_file(tmp_path):
    with pytest.raises(InputError, match="no such ONNX descriptor model file"):
        make_embedder(f"onnx:{tmp_path / 'none.onnx'}")


@pytest.mark.parametrize("module,spec", [("dlib", "dlib"), ("onnxruntime", "onnx:x.onnx")])
def test_missing_dependency_names_the_extra(monkeypatch, module, spec):
    monkeypatch.setitem(sys.modules, module, None)  # makes "import module" fail
    with pytest.raises(MissingDependencyError, match=r"facemetric\[images\]"):
        make_embedder(spec)


def test_missing_cv2_for_detection(monkeypatch):
    import numpy as np

    from facemetric.detect.geometry import pad_image

    monkeypatch.setitem(sys.modules, "cv2", None)
    with pytest.raises(MissingDependencyError, match=r"facemetric\[images\]"):
        pad_image(np.zeros((4, 4, 3), np.uint8), 0.5)
