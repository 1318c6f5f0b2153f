"""SCRFD and YuNet on real LFW images, output layout handling, and YuNet against OpenCV's decoder."""

from __future__ import annotations

import numpy as np
import pytest

from facemetric.detect import choose_face, make_detector
from facemetric.detect.canvas import CanvasRule
from facemetric.detect.geometry import letterbox
from facemetric.errors import InputError

pytestmark = pytest.mark.shared

IMAGES = ["Aaron_Eckhart/Aaron_Eckhart_0001.jpg", "Serena_Williams/Serena_Williams_0003.jpg",
          "Colin_Powell/Colin_Powell_0001.jpg"]


@pytest.fixture(scope="module")
def lfw_samples(lfw_dir):
    from facemetric.detect.landmarks_file import read_landmarks_text
    from facemetric.images import read_image

    refs = read_landmarks_text(lfw_dir / "landmarks_mtcnn_5pt.txt")
    return [(read_image(lfw_dir / "images" / rel), refs[rel][0].landmarks) for rel in IMAGES]


@pytest.fixture(scope="module")
def scrfd(models_dir):
    return make_detector(f"scrfd:{models_dir / 'scrfd_2.5g_bnkps.onnx'}", threads=1)


@pytest.fixture(scope="module")
def yunet(models_dir):
    return make_detector(f"yunet:{models_dir / 'yunet.onnx'}", threads=1)


def _check_landmarks_near_reference(face, ref):
    eye_d = np.linalg.norm(ref[1] - ref[0])
    err = np.linalg.norm(face.landmarks - ref, axis=1)
    # The MTCNN reference is noisy on deep-funneled LFW (median 0.12 eye distance).
    assert np.median(err) < 0.3 * eye_d, err / eye_d
    lm = face.landmarks
    assert lm[0, 0] < lm[1, 0] and lm[3, 0] < lm[4, 0]  # image-left first
    assert face.box[0] < lm[:, 0].min() and lm[:, 0].max() < face.box[2]


@pytest.mark.parametrize("which", ["scrfd", "yunet"])
def test_finds_the_labelled_face(which, request, lfw_samples):
    detector = request.getfixturevalue(which)
    for image, ref in lfw_samples:
        faces = detector.detect(image)
        face = choose_face(faces, image.shape, "central")
        assert face is not None and 0.5 <= face.score <= 1.0
        _check_landmarks_near_reference(face, ref)


@pytest.mark.parametrize("which", ["scrfd", "yunet"])
def test_two_faces_in_one_image(which, request, lfw_samples):
    detector = request.getfixturevalue(which)
    (a, _), (b, _) = lfw_samples[0], lfw_samples[1]
    cv2 = pytest.importorskip("cv2")
    big = cv2.resize(a, (400, 400))
    canvas = np.zeros((400, 650, 3), np.uint8)
    canvas[:, :400] = big
    canvas[75:325, 400:650] = b
    faces = detector.detect(canvas)
    assert len(faces) >= 2
    largest = choose_face(faces, canvas.shape, "largest")
    assert largest.center[0] < 400  # the upscaled face on the left
    right = [f for f in faces if f.center[0] > 400]
    assert right and right[0].area < largest.area


def test_scrfd_other_input_size_agrees(models_dir, lfw_samples):
    small = make_detector(f"scrfd:{models_dir / 'scrfd_2.5g_bnkps.onnx'}", threads=1)
    from facemetric.detect.scrfd import ScrfdDetector

    det320 = ScrfdDetector(models_dir / "scrfd_2.5g_bnkps.onnx", input_size=(320, 256), threads=1)
    assert det320.input_size_ == (320, 256)
    image, ref = lfw_samples[0]
    a = choose_face(small.detect(image), image.shape, "central")
    b = choose_face(det320.detect(image), image.shape, "central")
    eye_d = np.linalg.norm(ref[1] - ref[0])
    assert np.abs(a.landmarks - b.landmarks).max() < 0.15 * eye_d


class _FixedShapeSession:
    """A real session that reports a fixed input shape and shuffles its outputs."""

    def __init__(self, session, h, w):
        self.session, self.shape = session, [1, 3, h, w]
        inp = session.get_inputs()[0]
        self._inp = type("Arg", (), {"name": inp.name, "shape": self.shape})()
        self._outs = list(reversed(session.get_outputs()))

    def get_inputs(self):
        return [self._inp]

    def get_outputs(self):
        return self._outs

    def run(self, names, feed):
        assert feed[self._inp.name].shape == tuple(self.shape)
        return self.session.run(names, feed)


def test_scrfd_fixed_input_shape_and_output_order_come_from_the_model(models_dir, lfw_samples, monkeypatch):
    from facemetric.detect import scrfd as scrfd_module
    from facemetric.onnx_runtime import open_session

    monkeypatch.setattr(scrfd_module, "open_session",
                        lambda path, threads, what: _FixedShapeSession(open_session(path, threads), 384, 416))
    det = scrfd_module.ScrfdDetector(models_dir / "scrfd_2.5g_bnkps.onnx", input_size=(640, 640))
    assert det.input_size_ == (416, 384)  # the model's own, not the requested one
    image, ref = lfw_samples[2]
    _check_landmarks_near_reference(choose_face(det.detect(image), image.shape, "central"), ref)


def test_yunet_decoding_matches_opencv(models_dir, lfw_samples, yunet):
    cv2 = pytest.importorskip("cv2")
    if not hasattr(cv2, "FaceDetectorYN"):
        pytest.skip("this OpenCV has no FaceDetectorYN")
    from facemetric.detect.yunet import YunetDetector

    inner = YunetDetector(models_dir / "yunet.onnx", canvas=CanvasRule(size=(640, 640), upscale=True), threads=1)
    ref = cv2.FaceDetectorYN.create(str(models_dir / "yunet.onnx"), "", (640, 640), 0.6, 0.3)
    for image, _ in lfw_samples:
        canvas = letterbox(image, CanvasRule(size=(640, 640), upscale=True).place(image.shape[1], image.shape[0]))
        ours = inner.detect(canvas)
        _, theirs = ref.detect(np.ascontiguousarray(canvas[:, :, ::-1]))
        assert theirs is not None and len(ours) == len(theirs)
        t = theirs[np.argmax(theirs[:, 14])]
        o = max(ours, key=lambda f: f.score)
        np.testing.assert_allclose(o.box, [t[0], t[1], t[0] + t[2], t[1] + t[3]], atol=1e-2)
        np.testing.assert_allclose(o.landmarks.ravel(), t[4:14], atol=1e-2)
        assert o.score == pytest.approx(float(t[14]), abs=1e-4)


def test_bad_model_files(tmp_path):
    with pytest.raises(InputError, match="no such ONNX"):
        make_detector(f"scrfd:{tmp_path / 'missing.onnx'}")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(InputError, match="junk.onnx: onnxruntime cannot load"):
        make_detector(f"yunet:{junk}")


def test_yunet_rejects_a_non_yunet_model(models_dir):
    with pytest.raises(InputError, match="not a YuNet model"):
        make_detector(f"yunet:{models_dir / 'scrfd_2.5g_bnkps.onnx'}")


def test_bad_image_array(scrfd):
    with pytest.raises(InputError, match="uint8 RGB"):
        scrfd.detect(np.zeros((10, 10), np.uint8))
    with pytest.raises(InputError, match="uint8 RGB"):
        scrfd.detect(np.zeros((10, 10, 3), np.float32))


class _NoKeypointsSession(_FixedShapeSession):
    """Pretend the model has no keypoint outputs (an SCRFD export without _kps)."""

    def __init__(self, session):
        super().__init__(session, 640, 640)
        self._outs = [o for o in session.get_outputs() if o.shape[-1] != 10]

    def run(self, names, feed):
        return [o for o in self.session.run(None, feed) if o.shape[-1] != 10]


def test_scrfd_without_keypoints_is_refused(models_dir, lfw_samples, monkeypatch):
    from facemetric.detect import scrfd as scrfd_module
    from facemetric.onnx_runtime import open_session

    monkeypatch.setattr(scrfd_module, "open_session",
                        lambda path, threads, what: _NoKeypointsSession(open_session(path, threads)))
    det = scrfd_module.ScrfdDetector(models_dir / "scrfd_2.5g_bnkps.onnx")
    with pytest.raises(InputError, match="no keypoint outputs"):
        det.detect(lfw_samples[0][0])


class _Recording:
    """Wrap a session and record the shape of every input it is given."""

    def __init__(self, session):
        self.session, self.shapes = session, []

    def run(self, names, feed):
        self.shapes.append(next(iter(feed.values())).shape)
        return self.session.run(names, feed)


@pytest.mark.parametrize("kind", ["scrfd", "yunet"])
def test_default_canvas_follows_the_photo_and_survives_downscaling(kind, models_dir, lfw_samples):
    """The default never enlarges an LFW photo; a 2x smaller copy gives the same points, mapped."""
    from facemetric.detect.canvas import DEFAULT_PAD, default_canvas

    cv2 = pytest.importorskip("cv2")
    model = "scrfd_2.5g_bnkps.onnx" if kind == "scrfd" else "yunet.onnx"
    det = make_detector(f"{kind}:{models_dir / model}", threads=1)
    assert det.settings["pad"] == DEFAULT_PAD[kind] and det.settings["upscale"] is False
    inner = det.detector
    inner.session_ = rec = _Recording(inner.session_)
    for image, ref in lfw_samples:
        side = image.shape[0] + 2 * round(DEFAULT_PAD[kind] * image.shape[0])
        face = choose_face(det.detect(image), image.shape, "central")
        small = cv2.resize(image, (125, 125), interpolation=cv2.INTER_AREA)
        small_face = choose_face(det.detect(small), small.shape, "central")
        assert face is not None and small_face is not None
        _check_landmarks_near_reference(face, ref)
        back = (small_face.landmarks + 0.5) / 0.5 - 0.5  # OpenCV's resize maps u to (u + 0.5) * s - 0.5
        scale = np.linalg.norm(face.landmarks[3:].mean(0) - face.landmarks[:2].mean(0))
        # a map-back error would be tens of pixels; what is left is the detector's own noise on a face
        # of about 40 px (the int8 YuNet's is larger: up to 0.12 x the eye-mouth distance here)
        assert np.linalg.norm(back - face.landmarks, axis=1).mean() < (0.1 if kind == "scrfd" else 0.2) * scale
        expected = default_canvas(kind).place(side, side, inner.model_size_)
        assert rec.shapes[-2][2:] == (expected.height, expected.width)
    if kind == "scrfd":  # the padded photo's own size (shrunk to the max side), rounded up to the stride
        side = lfw_samples[0][0].shape[0] * (1 + 2 * DEFAULT_PAD[kind])
        assert max(rec.shapes[0][2:]) == min(-(-round(side) // 32) * 32, default_canvas(kind).max_side)
        assert max(rec.shapes[1][2:]) <= -(-round(side / 2) // 32) * 32
    else:  # the int8 YuNet has a fixed 640x640 input; the photo sits on it at its own size
        assert set(rec.shapes) == {(1, 3, 640, 640)}


def test_an_explicit_canvas_still_fits_the_photo_to_it(models_dir, lfw_samples):
    det = make_detector(f"scrfd:{models_dir / 'scrfd_2.5g_bnkps.onnx'}@320", threads=1)
    assert det.name.endswith("@320x320+pad0.25") and det.settings["upscale"] is True
    det.detector.session_ = rec = _Recording(det.detector.session_)
    image, ref = lfw_samples[0]
    small = image[::2, ::2].copy()  # 125x125, padded to 187: enlarged to the 320 canvas as asked
    assert choose_face(det.detect(small), small.shape, "central") is not None
    assert rec.shapes == [(1, 3, 320, 320)]
