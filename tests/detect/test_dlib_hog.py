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
