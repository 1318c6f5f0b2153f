"""make_detector spec parsing and its errors."""

from __future__ import annotations

import pytest

from facemetric.detect import Detector, make_detector
from facemetric.errors import ConfigError


@pytest.mark.parametrize(
    "spec,needle",
    [("", "must be one of"), ("mtcnn", "unknown detector 'mtcnn'"), ("scrfd", "needs a file after ':'"),
     ("yunet:", "needs a file after ':'"), ("landmarks", "needs a file"), ("dlib:foo", "takes no argument")],
)
def test_bad_specs(spec, needle):
    with pytest.raises(ConfigError) as info:
        make_detector(spec)
    assert needle in str(info.value)


@pytest.mark.shared
def test_specs_build_detectors(models_dir):
    scrfd = make_detector(f"scrfd:{models_dir / 'scrfd_2.5g_bnkps.onnx'}")
    assert isinstance(scrfd, Detector) and scrfd.name.startswith("scrfd:") and scrfd.name.endswith("+pad0.5")
    bare = make_detector(f"SCRFD:{models_dir / 'scrfd_2.5g_bnkps.onnx'}", pad=0)
    assert not bare.name.endswith("pad0.5") and len(scrfd.model_hash) == 16
    with pytest.raises(ConfigError, match="'pad'"):
        make_detector(f"yunet:{models_dir / 'yunet.onnx'}", pad=-1)
    with pytest.raises(ConfigError, match="score_threshold"):
        make_detector(f"yunet:{models_dir / 'yunet.onnx'}", score_threshold=2.0)
    small = make_detector(f"scrfd:{models_dir / 'scrfd_2.5g_bnkps.onnx'}", input_size=(320, 320))
    assert "@320x320" in small.name
    with pytest.raises(ConfigError, match="multiples of 32"):
        make_detector(f"scrfd:{models_dir / 'scrfd_2.5g_bnkps.onnx'}", input_size=(300, 300))
    with pytest.raises(ConfigError, match="input_size applies"):
        make_detector("dlib", input_size=(320, 320))
