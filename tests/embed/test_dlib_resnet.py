"""dlib's ResNet embedder on real chips, against dlib's own end-to-end descriptor."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.shared


def test_matches_dlib_own_pipeline(lfw_dir):
    dlib = pytest.importorskip("dlib")
    from facemetric.align import align_face
    from facemetric.detect.dlib_hog import DlibHogDetector
    from facemetric.embed import make_embedder
    from facemetric.images import read_image

    embedder = make_embedder("dlib")
    assert embedder.input_size == (150, 150) and embedder.dim == 128 and embedder.template == "dlib150"
    assert embedder.color_order == "RGB" and len(embedder.model_hash) == 16
    detector = DlibHogDetector()
    for rel in ["Aaron_Eckhart/Aaron_Eckhart_0001.jpg", "Colin_Powell/Colin_Powell_0001.jpg"]:
        image = read_image(lfw_dir / "images" / rel)
        (face, pts68), *_ = detector.detect_68(image)
        crop = align_face(image, face.landmarks, "dlib150").crop
        ours = embedder.embed(crop[None])[0]
        # Same network, same chip: identical to calling dlib on our chip directly.
        direct = np.array(embedder.model_.compute_face_descriptor(crop))
        np.testing.assert_allclose(ours, direct, atol=1e-5)
        # Our 5-point dlib150 alignment vs dlib's own 68-point chip: the same face for the network
        # (dlib's same-person threshold is L2 0.6; one face on two alignments is far closer).
        rect = dlib.rectangle(*[int(round(v)) for v in face.box])
        shape = dlib.full_object_detection(rect, [dlib.point(int(x), int(y)) for x, y in pts68])
        theirs = np.array(embedder.model_.compute_face_descriptor(image, shape))
        assert np.linalg.norm(ours - theirs) < 0.25
