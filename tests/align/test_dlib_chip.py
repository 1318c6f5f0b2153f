"""dlib's own chip from stored shape points, and its use by the extraction processor."""

from __future__ import annotations

import numpy as np
import pytest

from facemetric.errors import InputError

IMAGE = "Aaron_Eckhart/Aaron_Eckhart_0001.jpg"


def _dlib_reference(image: np.ndarray):
    """dlib's documented recipe, called directly: HOG detector, 68-point predictor, get_face_chip."""
    dlib = pytest.importorskip("dlib")
    models = pytest.importorskip("face_recognition_models")
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(models.pose_predictor_model_location())
    (rect,) = detector(image, 1)
    shape = predictor(image, rect)
    return shape, np.asarray(dlib.get_face_chip(image, shape, size=150, padding=0.25))


def _rotated(image: np.ndarray, degrees: float) -> np.ndarray:
    import cv2

    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR)


@pytest.mark.shared
@pytest.mark.parametrize("degrees", [0.0, 20.0, -15.0])
def test_chip_equals_dlib_get_face_chip_on_real_lfw(lfw_dir, degrees):
    from facemetric.align import warp_affine
    from facemetric.align.dlib_chip import dlib_chip
    from facemetric.detect.dlib_hog import shape_to_array
    from facemetric.images import read_image

    image = _rotated(read_image(lfw_dir / "images" / IMAGE), degrees)
    shape, reference = _dlib_reference(image)
    aligned = dlib_chip(image, shape_to_array(shape))
    assert aligned.crop.shape == (150, 150, 3) and aligned.template == "dlib-chip150"
    np.testing.assert_array_equal(aligned.crop, reference)
    # the returned matrix is dlib's mapping: warping with it gives (nearly) the same chip
    warped = warp_affine(image, aligned.matrix, (150, 150)).astype(int)
    assert np.abs(warped - reference).mean() < 2.0


@pytest.mark.shared
def test_processor_uses_dlib_chip_for_dlib_detector_and_embedder(lfw_dir):
    from facemetric.align import align_face
    from facemetric.detect import make_detector
    from facemetric.embed import make_embedder
    from facemetric.extract.processor import ImageProcessor
    from facemetric.images import read_image

    path = lfw_dir / "images" / IMAGE
    image = read_image(path)
    _, reference = _dlib_reference(image)
    embedder = make_embedder("dlib")
    processor = ImageProcessor(make_detector("dlib", pad=0), embedder, policy="central")  # as the reference
    assert processor.describe()["alignment"] == "dlib-chip150"
    face, _ = processor.face_of(image, IMAGE)
    assert face.dlib_shape.shape == (68, 2)
    np.testing.assert_array_equal(processor.align(image, face).crop, reference)
    (result,) = processor.process([("k", IMAGE, str(path))])
    np.testing.assert_allclose(result.x, embedder.embed(reference[None])[0], atol=1e-5)
    # without the chip (or with a detector that gives no dlib shape) the 5-point warp is used
    plain = ImageProcessor(make_detector("dlib"), embedder, policy="central", dlib_chip=False)
    assert plain.describe()["alignment"] == "dlib150"
    np.testing.assert_array_equal(plain.align(image, face).crop,
                                  align_face(image, face.landmarks, "dlib150").crop)


def test_chip_rejects_bad_points_and_images():
    pytest.importorskip("dlib")
    from facemetric.align.dlib_chip import dlib_chip

    image = np.zeros((100, 100, 3), np.uint8)
    with pytest.raises(InputError, match=r"\(68, 2\) or \(5, 2\)"):
        dlib_chip(image, np.zeros((10, 2)))
    with pytest.raises(InputError, match="uint8"):
        dlib_chip(image.astype(np.float32), np.zeros((68, 2)))
