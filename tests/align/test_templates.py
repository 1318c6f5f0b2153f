"""The templates, and the dlib150 template re-derived from dlib's own chips."""

from __future__ import annotations

import numpy as np
import pytest

from facemetric.align import TEMPLATES, align_face, get_template
from facemetric.errors import ConfigError


def test_template_table():
    assert set(TEMPLATES) == {"arcface112", "sphereface112x96", "dlib150"}
    assert TEMPLATES["arcface112"].size == (112, 112)
    assert TEMPLATES["sphereface112x96"].size == (96, 112)
    assert TEMPLATES["dlib150"].size == (150, 150)
    # ArcFace's 112x112 template is SphereFace's 96-wide one shifted 8 px right.
    np.testing.assert_allclose(TEMPLATES["arcface112"].points - TEMPLATES["sphereface112x96"].points,
                               np.tile([8.0, 0.0], (5, 1)))
    for tpl in TEMPLATES.values():
        p = tpl.points
        assert p[0, 0] < p[1, 0] and p[3, 0] < p[4, 0]  # image-left before image-right
        assert p[:2, 1].max() < p[2, 1] < p[3:, 1].min()  # eyes above nose above mouth
        assert (p > 0).all() and (p[:, 0] < tpl.size[0]).all() and (p[:, 1] < tpl.size[1]).all()
        assert not p.flags.writeable
    with pytest.raises(ConfigError):
        get_template("arcface")


@pytest.mark.shared
@pytest.mark.slow
def test_dlib150_matches_dlib_get_face_chip(lfw_dir):
    dlib = pytest.importorskip("dlib")
    from facemetric.align import apply_transform, invert_transform, warp_affine
    from facemetric.align.dlib_template import derive_dlib150_template, dlib_chip_matrix
    from facemetric.detect.dlib_hog import DlibHogDetector
    from facemetric.images import read_image

    root = lfw_dir / "images"
    names = sorted(p.name for p in root.iterdir())[300:312]  # not the images it was derived from
    images = [read_image(sorted((root / n).iterdir())[0]) for n in names]
    mean, per_face = derive_dlib150_template(images)
    assert len(per_face) >= 10
    # Re-derived on other faces, the template moves by no more than sampling noise allows.
    stderr = per_face.std(axis=0) / np.sqrt(len(per_face))
    assert (np.abs(mean - TEMPLATES["dlib150"].points) < 3 * stderr + 0.5).all()

    # Our 5-point alignment lands close to dlib's own 51-point chip: map a grid of chip pixels
    # back to the image with dlib's transform and forward with ours.
    detector = DlibHogDetector()
    grid = np.stack(np.meshgrid(np.linspace(20, 130, 6), np.linspace(20, 130, 6)), -1).reshape(-1, 2)
    for image in images[:6]:
        (face, pts68), *_ = detector.detect_68(image)
        rect = dlib.rectangle(*[int(round(v)) for v in face.box])
        shape = dlib.full_object_detection(rect, [dlib.point(int(x), int(y)) for x, y in pts68])
        theirs = dlib_chip_matrix(shape, image.shape)
        ours = align_face(image, face.landmarks, "dlib150").matrix
        moved = apply_transform(ours, apply_transform(invert_transform(theirs), grid))
        assert np.linalg.norm(moved - grid, axis=1).mean() < 6.0  # 4% of the chip
        # The transform recovered from coordinate images really is dlib's: same chip pixels.
        chip = dlib.get_face_chip(image, shape, size=150, padding=0.25).astype(np.float64)
        warped = warp_affine(image, theirs, (150, 150)).astype(np.float64)
        assert np.abs(chip - warped)[10:-10, 10:-10].mean() < 3.0
