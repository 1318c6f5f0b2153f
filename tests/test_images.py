"""read_image: every readable layout becomes uint8 RGB; every unusable file gives one InputError naming it."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from facemetric.errors import InputError
from facemetric.images import read_image


def test_rgb_jpeg_and_png_roundtrip(tmp_path):
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, size=(20, 30, 3), dtype=np.uint8)
    Image.fromarray(arr).save(tmp_path / "a.png")
    out = read_image(tmp_path / "a.png")
    assert out.dtype == np.uint8 and out.shape == (20, 30, 3)
    np.testing.assert_array_equal(out, arr)
    smooth = np.zeros((20, 30, 3), np.uint8)
    smooth[..., 0] = np.linspace(0, 250, 30, dtype=np.uint8)[None]
    smooth[..., 2] = np.linspace(0, 250, 20, dtype=np.uint8)[:, None]
    Image.fromarray(smooth).save(tmp_path / "a.jpg", quality=95)
    jpg = read_image(tmp_path / "a.jpg")
    assert jpg.shape == (20, 30, 3) and np.abs(jpg.astype(int) - smooth).mean() < 5


def test_channel_order_is_rgb(tmp_path):
    arr = np.zeros((8, 8, 3), np.uint8)
    arr[..., 0] = 200  # pure red
    Image.fromarray(arr).save(tmp_path / "red.png")
    out = read_image(tmp_path / "red.png")
    assert out[0, 0].tolist() == [200, 0, 0]


def test_grayscale_becomes_three_equal_channels(tmp_path):
    gray = np.arange(64, dtype=np.uint8).reshape(8, 8)
    Image.fromarray(gray, mode="L").save(tmp_path / "g.png")
    out = read_image(tmp_path / "g.png")
    assert out.shape == (8, 8, 3)
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], gray)


def test_alpha_is_composited_on_black(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., :3] = 200
    rgba[:2, :, 3] = 255  # top half opaque
    rgba[2:, :, 3] = 0  # bottom half transparent
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "a.png")
    out = read_image(tmp_path / "a.png")
    assert out.shape == (4, 4, 3)
    assert (out[:2] == 200).all() and (out[2:] == 0).all()
    la = np.stack([np.full((4, 4), 100, np.uint8), np.full((4, 4), 255, np.uint8)], axis=2)
    Image.fromarray(la, mode="LA").save(tmp_path / "la.png")
    assert (read_image(tmp_path / "la.png") == 100).all()


def test_palette_and_16bit(tmp_path):
    arr = np.zeros((6, 6, 3), np.uint8)
    arr[:3] = (10, 20, 30)
    Image.fromarray(arr).convert("P", palette=Image.Palette.ADAPTIVE).save(tmp_path / "p.png")
    out = read_image(tmp_path / "p.png")
    assert out.shape == (6, 6, 3) and out[0, 0].tolist() == [10, 20, 30]
    deep = (np.arange(36, dtype=np.uint16).reshape(6, 6) * 1000)
    Image.fromarray(deep).save(tmp_path / "d.png")
    out16 = read_image(tmp_path / "d.png")
    assert out16.dtype == np.uint8 and out16.shape == (6, 6, 3) and out16.max() == 255


@pytest.mark.parametrize("case", ["missing", "empty", "text", "truncated", "directory"])
def test_bad_files_raise_one_line_input_error_naming_the_file(tmp_path, case):
    path = tmp_path / f"bad_{case}.jpg"
    if case == "empty":
        path.write_bytes(b"")
    elif case == "text":
        path.write_text("this is not an image\n")
    elif case == "truncated":
        arr = np.random.default_rng(1).integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
        Image.fromarray(arr).save(tmp_path / "full.jpg")
        path.write_bytes((tmp_path / "full.jpg").read_bytes()[:300])
    elif case == "directory":
        path.mkdir()
    with pytest.raises(InputError) as info:
        read_image(path)
    msg = str(info.value)
    assert str(path) in msg and "\n" not in msg


def test_real_lfw_image(lfw_dir):
    img = read_image(lfw_dir / "images" / "Aaron_Eckhart" / "Aaron_Eckhart_0001.jpg")
    assert img.shape == (250, 250, 3) and img.dtype == np.uint8 and img.flags.c_contiguous
