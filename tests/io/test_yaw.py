"""Yaw from 5 landmarks, checked on synthetic 3-D faces rotated and projected."""

from __future__ import annotations

import numpy as np
import pytest

from facemetric.errors import InputError
from facemetric.io.protocols.yaw import NOSE_DEPTH_RATIO, estimate_yaw, yaw_ratio

IOD = 63.0
# left eye, right eye, nose tip, left and right mouth corners (x right, y up, z towards the camera), mm
FACE_3D = np.array([
    [-IOD / 2, 35.0, 0.0],
    [IOD / 2, 35.0, 0.0],
    [0.0, 0.0, NOSE_DEPTH_RATIO * IOD],
    [-25.0, -30.0, 0.0],
    [25.0, -30.0, 0.0],
])


def rotation(yaw: float, pitch: float = 0.0, roll: float = 0.0) -> np.ndarray:
    y, p, r = np.radians([yaw, pitch, roll])
    Ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    Rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    Rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return Rz @ Rx @ Ry


def project(yaw: float, pitch: float = 0.0, roll: float = 0.0, scale: float = 1.3, shift=(120.0, 110.0),
            camera_distance: float | None = None) -> np.ndarray:
    """Image points (y down) of the rotated face: orthographic, or perspective at ``camera_distance`` mm."""
    P = FACE_3D @ rotation(yaw, pitch, roll).T
    if camera_distance is not None:
        factor = camera_distance / (camera_distance - P[:, 2])
        P = P * factor[:, None]
    return np.c_[P[:, 0] * scale + shift[0], -P[:, 1] * scale + shift[1]]


@pytest.mark.parametrize("yaw", [-60.0, -35.0, -10.0, 0.0, 5.0, 20.0, 45.0, 70.0])
def test_exact_under_orthographic_yaw(yaw):
    got = estimate_yaw(project(yaw)[None])[0]
    assert got == pytest.approx(yaw, abs=1e-6)


@pytest.mark.parametrize("roll", [-25.0, 10.0, 30.0])
def test_roll_and_scale_do_not_change_yaw(roll):
    got = estimate_yaw(project(30.0, roll=roll, scale=0.4, shift=(-5.0, 300.0))[None])[0]
    assert got == pytest.approx(30.0, abs=1e-6)


def test_pitch_and_perspective_stay_close():
    rng = np.random.default_rng(0)
    truth = rng.uniform(-60, 60, size=200)
    pts = np.stack([project(t, pitch=rng.uniform(-15, 15), roll=rng.uniform(-20, 20), camera_distance=600.0)
                    for t in truth])
    err = np.abs(estimate_yaw(pts) - truth)
    assert err.max() < 6.0
    assert np.corrcoef(estimate_yaw(pts), truth)[0, 1] > 0.99


def test_mirror_flips_the_sign():
    pts = project(25.0)
    mirrored = pts.copy()
    mirrored[:, 0] = -mirrored[:, 0]
    # after mirroring, "left eye" is the one with smaller x again: swap the left/right points
    mirrored = mirrored[[1, 0, 2, 4, 3]]
    assert estimate_yaw(mirrored[None])[0] == pytest.approx(-25.0, abs=1e-6)


def test_ratio_is_monotonic_in_yaw():
    yaws = np.linspace(-70, 70, 29)
    r = yaw_ratio(np.stack([project(t) for t in yaws]))
    assert np.all(np.diff(r) > 0)


def test_bad_inputs():
    with pytest.raises(InputError, match=r"\(N, 5, 2\)"):
        estimate_yaw(np.zeros((3, 4, 2)))
    with pytest.raises(InputError, match="NaN"):
        estimate_yaw(np.full((1, 5, 2), np.nan))
    with pytest.raises(InputError, match="nose_depth_ratio"):
        estimate_yaw(project(0.0)[None], nose_depth_ratio=0)
    coincident = np.zeros((1, 5, 2))
    assert np.isnan(estimate_yaw(coincident)[0])
