"""make_detector spec parsing and its errors."""

from __future__ import annotations

import pytest

from facemetric.detect import Detector, make_detector
from facemetric.detect.canvas import DEFAULT_PAD
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
    assert isinstance(scrfd, Detector) and scrfd.name.startswith("scrfd:") and scrfd.name.endswith(f"+pad{DEFAULT_PAD['scrfd']:g}")
    bare = make_detector(f"SCRFD:{models_dir / 'scrfd_2.5g_bnkps.onnx'}", pad=0)
    assert "+pad" not in bare.name and len(scrfd.model_hash) == 16
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


@pytest.mark.parametrize("spec,expected", [
    ("scrfd:m.onnx@320", ("scrfd", "m.onnx", "320")),
    ("scrfd:m.onnx@max320", ("scrfd", "m.onnx", "max320")),
    ("YUNET:dir/m.onnx@640x480", ("yunet", "dir/m.onnx", "640x480")),
    ("dlib@0,1", ("dlib", "", "0,1")),
    ("dlib", ("dlib", "", None)),
    ("scrfd:some@dir/m.onnx", ("scrfd", "some@dir/m.onnx", None)),  # an '@' inside a path stays there
    ("landmarks:lm.txt", ("landmarks", "lm.txt", None)),
])
def test_split_spec(spec, expected):
    from facemetric.detect.factory import split_spec

    assert split_spec(spec) == expected


def test_compose_spec_folds_cli_options():
    from facemetric.detect.factory import compose_spec

    assert compose_spec("scrfd:m.onnx", det_size="320") == "scrfd:m.onnx@320x320"
    assert compose_spec("yunet:m.onnx", det_size="640x480") == "yunet:m.onnx@640x480"
    assert compose_spec("scrfd:m.onnx", det_size="MAX320") == "scrfd:m.onnx@max320"
    assert compose_spec("scrfd:m.onnx@max640") == "scrfd:m.onnx@max640"
    assert compose_spec("dlib", upsample="0,1") == "dlib@0,1"
    assert compose_spec("dlib@2") == "dlib@2" and compose_spec(" landmarks:f.txt ") == "landmarks:f.txt"


@pytest.mark.parametrize("spec,options,needle", [
    ("dlib", {"det_size": "320"}, "--det-size applies to scrfd and yunet"),
    ("scrfd:m.onnx", {"upsample": "1"}, "--upsample applies to the dlib detector only"),
    ("scrfd:m.onnx@320", {"det_size": "320"}, "either in the spec"),
    ("dlib@1", {"upsample": "1"}, "either in the spec"),
    ("scrfd:m.onnx", {"det_size": "abc"}, "--det-size must be N or WxH"),
    ("scrfd:m.onnx", {"det_size": "16"}, "at least 32"),
    ("scrfd:m.onnx", {"det_size": "max16"}, "at least 32"),
    ("scrfd:m.onnx@max8", {}, "at least 32"),
    ("scrfd:m.onnx", {"det_size": "0x320"}, "at least 32"),
    ("dlib@x", {}, "'upsample' parameter of dlib"),
    ("dlib", {"upsample": "1,0"}, "'upsample' parameter of dlib"),
    ("dlib", {"upsample": "-1"}, "'upsample' parameter of dlib"),
    ("landmarks:f.txt@320", {}, "takes no '@' suffix"),
    ("dlib:foo", {}, "takes no argument"),
    ("scrfd", {}, "needs a file after ':'"),
    ("mtcnn", {}, "unknown detector 'mtcnn'"),
    ("", {}, "must be one of"),
])
def test_compose_spec_bad_values(spec, options, needle):
    from facemetric.detect.factory import compose_spec

    with pytest.raises(ConfigError) as info:
        compose_spec(spec, **options)
    assert needle in str(info.value) and "\n" not in str(info.value)


@pytest.mark.shared
def test_spec_suffixes_build_detectors(models_dir):
    pytest.importorskip("dlib")
    small = make_detector(f"scrfd:{models_dir / 'scrfd_2.5g_bnkps.onnx'}@320")
    assert "@320x320" in small.name
    with pytest.raises(ConfigError, match="multiples of 32"):
        make_detector(f"scrfd:{models_dir / 'scrfd_2.5g_bnkps.onnx'}@300")
    with pytest.raises(ConfigError, match="either in the spec"):
        make_detector(f"scrfd:{models_dir / 'scrfd_2.5g_bnkps.onnx'}@320", input_size=(320, 320))
    dlib = make_detector("dlib@0,1")
    assert dlib.name.startswith("dlib-hog@up0,1") and dlib.detector.levels == (0, 1)
    assert make_detector("dlib", upsample=2, pad=0).levels == (2,)
    with pytest.raises(ConfigError, match="dlib detector only"):
        make_detector(f"yunet:{models_dir / 'yunet.onnx'}", upsample=1)
