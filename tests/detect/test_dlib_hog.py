"""dlib HOG + 68 points -> 5 ArcFace points."""

from __future__ import annotations

import numpy as np
import pytest

from facemetric.detect.dlib_hog import landmarks68_to_5
from facemetric.errors import ConfigError


def test_68_to_5_mapping_by_hand():
    pts = np.arange(136, dtype=np.float32).reshape(68, 2)
    five = landmarks68_to_5(pts)
    np.testing.assert_allclose(five[0], [np.mean([2 * i for i in range(36, 42)]),
                                         np.mean([2 * i + 1 for i in range(36, 42)])])
    np.testing.assert_allclose(five[1], pts[42:48].mean(0))
    np.testing.assert_allclose(five[2:], pts[[30, 48, 54]])
    with pytest.raises(ConfigError):
        landmarks68_to_5(pts[:5])


@pytest.mark.shared
def test_dlib_on_real_lfw(lfw_dir):
    pytest.importorskip("dlib")
    from facemetric.detect import choose_face, make_detector
    from facemetric.detect.landmarks_file import read_landmarks_text
    from facemetric.images import read_image

    refs = read_landmarks_text(lfw_dir / "landmarks_mtcnn_5pt.txt")
    detector = make_detector("dlib")
    assert "dlib" in detector.name
    for rel in ["Aaron_Eckhart/Aaron_Eckhart_0001.jpg", "Colin_Powell/Colin_Powell_0001.jpg"]:
        image = read_image(lfw_dir / "images" / rel)
        face = choose_face(detector.detect(image), image.shape, "central")
        ref = refs[rel][0].landmarks
        eye_d = np.linalg.norm(ref[1] - ref[0])
        assert np.median(np.linalg.norm(face.landmarks - ref, axis=1)) < 0.3 * eye_d
        assert face.landmarks[0, 0] < face.landmarks[1, 0]
    assert detector.detect(np.zeros((100, 100, 3), np.uint8)) == []


@pytest.mark.shared
def test_fallback_threshold_recovers_a_hard_face(lfw_dir):
    pytest.importorskip("dlib")
    from facemetric.detect.dlib_hog import DlibHogDetector
    from facemetric.images import read_image

    image = read_image(lfw_dir / "images" / "Saeb_Erekat" / "Saeb_Erekat_0002.jpg")  # HOG misses it
    assert DlibHogDetector(fallback_threshold=None).detect(image) == []
    (face,) = DlibHogDetector().detect(image)
    assert face.score < 0 and 60 < face.center[0] < 190


def test_parse_upsample_levels_and_bad_values():
    from facemetric.detect.dlib_hog import parse_upsample

    assert parse_upsample(0) == (0,) and parse_upsample("2") == (2,)
    assert parse_upsample("0,1") == (0, 1) and parse_upsample((0, 2)) == (0, 2)
    for bad in (-1, 5, "x", "", "1,0", "0,0", "0,,1", 1.5, None, True):
        with pytest.raises(ConfigError, match="'upsample' parameter of dlib"):
            parse_upsample(bad)


def test_face_keeps_and_shifts_dlib_shape():
    from facemetric.detect.base import Face
    from facemetric.errors import InputError

    pts = np.arange(136, dtype=np.float32).reshape(68, 2)
    face = Face(box=[0, 0, 10, 10], score=1.0, landmarks=landmarks68_to_5(pts), dlib_shape=pts)
    moved = face.shifted(5, 7, 2.0)
    np.testing.assert_allclose(moved.dlib_shape, (pts - [5, 7]) * 2)
    np.testing.assert_allclose(moved.landmarks, landmarks68_to_5(moved.dlib_shape), rtol=1e-6)
    assert Face(box=[0, 0, 1, 1], score=1, landmarks=np.zeros((5, 2))).shifted(1, 1).dlib_shape is None
    with pytest.raises(InputError, match=r"dlib shape must have shape \(68, 2\) or \(5, 2\)"):
        Face(box=[0, 0, 1, 1], score=1, landmarks=np.zeros((5, 2)), dlib_shape=np.zeros((7, 2)))


@pytest.mark.shared
def test_no_face_at_upsample_0_retries_at_1(lfw_dir):
    """A small face (LFW photo shrunk to 100 px, face ~40 px) is below HOG's 80 px window at
    upsample 0; with levels (0, 1) the detector retries at 1 and finds it, only when needed."""
    pytest.importorskip("dlib")
    import cv2

    from facemetric.detect.dlib_hog import DlibHogDetector
    from facemetric.images import read_image

    image = read_image(lfw_dir / "images" / "Aaron_Eckhart" / "Aaron_Eckhart_0001.jpg")
    small = cv2.resize(image, (100, 100), interpolation=cv2.INTER_AREA)
    assert DlibHogDetector(upsample=0, fallback_threshold=None).detect(small) == []
    retrying = DlibHogDetector(upsample="0,1", fallback_threshold=None)
    assert retrying.name == "dlib-hog@up0,1" and retrying.gives_dlib_shape
    (face,) = retrying.detect(small)
    (at1,) = DlibHogDetector(upsample=1, fallback_threshold=None).detect(small)
    np.testing.assert_array_equal(face.box, at1.box)
    assert 30 < face.center[0] < 70 and face.dlib_shape.shape == (68, 2)
    # a face found at level 0 is returned as level 0 found it (no second pass)
    (big0,) = DlibHogDetector(upsample=0, fallback_threshold=None).detect(image)
    (big,) = retrying.detect(image)
    np.testing.assert_array_equal(big.box, big0.box)


@pytest.mark.shared
def test_center_box_only_when_nothing_is_found(lfw_dir):
    pytest.importorskip("dlib")
    from facemetric.detect.dlib_hog import DlibHogDetector
    from facemetric.images import read_image

    blank = np.full((200, 100, 3), 128, np.uint8)
    assert DlibHogDetector(upsample=0).detect(blank) == []
    detector = DlibHogDetector(upsample=0, center_box=0.4)
    (face,) = detector.detect(blank)
    assert np.isnan(face.score) and face.dlib_shape.shape == (68, 2) and "centerbox0.4" in detector.name
    np.testing.assert_allclose(face.box, [30, 80, 70, 120])  # 40 px square in the middle of 100x200
    image = read_image(lfw_dir / "images" / "Aaron_Eckhart" / "Aaron_Eckhart_0001.jpg")
    (found,) = detector.detect(image)
    (plain,) = DlibHogDetector(upsample=0).detect(image)
    np.testing.assert_array_equal(found.box, plain.box)
    for bad in (0.0, 1.5, -1):
        with pytest.raises(ConfigError, match="'center_box' parameter of dlib"):
            DlibHogDetector(center_box=bad)
