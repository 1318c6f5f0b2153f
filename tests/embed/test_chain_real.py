"""detect -> align -> embed on real LFW images: same-person pairs score above different-person pairs."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = [pytest.mark.shared, pytest.mark.slow]

PEOPLE = {
    "Colin_Powell": ["Colin_Powell_0001.jpg", "Colin_Powell_0002.jpg"],
    "Serena_Williams": ["Serena_Williams_0001.jpg", "Serena_Williams_0003.jpg"],
    "Tony_Blair": ["Tony_Blair_0001.jpg", "Tony_Blair_0002.jpg"],
    "Jennifer_Aniston": ["Jennifer_Aniston_0001.jpg", "Jennifer_Aniston_0002.jpg"],
}


def _descriptors(lfw_dir, detector, embedder):
    from facemetric.align import align_face
    from facemetric.detect import choose_face
    from facemetric.embed import embed_with_flip
    from facemetric.images import read_image

    crops, labels = [], []
    for person, files in PEOPLE.items():
        for f in files:
            rel = f"{person}/{f}"
            image = read_image(lfw_dir / "images" / rel)
            face = choose_face(detector.detect(image, rel), image.shape, "central")
            assert face is not None, rel
            crops.append(align_face(image, face.landmarks, embedder.template).crop)
            labels.append(person)
    x, xf = embed_with_flip(embedder, np.stack(crops))
    x = x + xf
    return x / np.linalg.norm(x, axis=1, keepdims=True), np.array(labels)


def _check_separation(x, labels):
    sims = x @ x.T
    same = labels[:, None] == labels[None, :]
    off = ~np.eye(len(labels), dtype=bool)
    genuine, impostor = sims[same & off], sims[~same]
    assert genuine.min() > impostor.max(), (genuine.min(), impostor.max())
    return genuine, impostor


@pytest.mark.parametrize("detector_spec", ["scrfd", "landmarks"])
def test_scrfd_or_given_landmarks_with_mobilefacenet(lfw_dir, models_dir, detector_spec):
    from facemetric.detect import make_detector
    from facemetric.embed import make_embedder

    spec = (f"scrfd:{models_dir / 'scrfd_2.5g_bnkps.onnx'}" if detector_spec == "scrfd"
            else f"landmarks:{lfw_dir / 'landmarks_mtcnn_5pt.txt'}")
    embedder = make_embedder(f"onnx:{models_dir / 'mobilefacenet_arcface_112.onnx'}", threads=1)
    x, labels = _descriptors(lfw_dir, make_detector(spec, threads=1) if detector_spec == "scrfd"
                             else make_detector(spec), embedder)
    genuine, impostor = _check_separation(x, labels)
    # ArcFace-style descriptors: different people are near orthogonal, the same person well above.
    assert impostor.mean() < 0.2 and genuine.mean() > impostor.mean() + 0.3


def test_dlib_end_to_end(lfw_dir):
    pytest.importorskip("dlib")
    from facemetric.detect import make_detector
    from facemetric.embed import make_embedder

    x, labels = _descriptors(lfw_dir, make_detector("dlib"), make_embedder("dlib"))
    _check_separation(x, labels)
