"""Where an image goes on the detector canvas: the rules, the defaults, and exact point mapping."""

from __future__ import annotations

import numpy as np
import pytest

from facemetric.detect.canvas import DEFAULT_MAX_SIDE, DEFAULT_PAD, STRIDE, CanvasRule, default_canvas, parse_canvas
from facemetric.detect.geometry import letterbox
from facemetric.errors import ConfigError


def padded_side(side: int, pad: float) -> int:
    return side + 2 * int(round(pad * side))  # what PaddedDetector hands the detector


@pytest.mark.parametrize("kind", ["scrfd", "yunet"])
@pytest.mark.parametrize("photo", [112, 125, 250, 500])
def test_a_small_photo_is_never_blown_up_by_default(kind, photo):
    rule = default_canvas(kind)
    side = padded_side(photo, DEFAULT_PAD[kind])  # a tight crop, small or LFW photo with the default border
    place = rule.place(side, side)
    assert place.sx == place.sy == min(1.0, DEFAULT_MAX_SIDE[kind] / side)  # its own size, or shrunk: never enlarged
    assert place.resized_width == min(side, DEFAULT_MAX_SIDE[kind])
    assert place.width == place.height == -(-place.resized_width // STRIDE) * STRIDE  # rounded up to the stride
    # on the fixed 640x640 input of the int8 YuNet, the image keeps that scale too
    on_model = rule.place(side, side, model_size=(640, 640))
    assert on_model.sx == place.sx and (on_model.width, on_model.height) == (640, 640)


@pytest.mark.parametrize("max_side", [160, 320, 640])
@pytest.mark.parametrize("shape", [(20, 20), (112, 112), (250, 250), (500, 375), (375, 500), (1000, 1000),
                                   (4000, 3000), (33, 700), (97, 61)])
def test_fitted_canvases_follow_the_image_and_only_ever_shrink_it(max_side, shape):
    w, h = shape
    place = CanvasRule(max_side=max_side).place(w, h)
    assert place.sx <= 1.0 and place.sy <= 1.0
    assert max(place.resized_width, place.resized_height) <= max(max_side, 1)
    assert place.width % STRIDE == 0 and place.height % STRIDE == 0
    assert 0 <= place.width - place.resized_width < STRIDE or place.width == STRIDE
    assert 0 <= place.height - place.resized_height < STRIDE or place.height == STRIDE
    assert place.resized_width == max(1, round(w * min(1.0, max_side / max(w, h))))
    assert place.sx == place.resized_width / w and place.sy == place.resized_height / h  # per axis, exact


def test_a_fixed_canvas_fits_the_image_up_or_down_as_before():
    up = CanvasRule(size=(320, 320), upscale=True).place(125, 100)
    assert (up.width, up.height) == (320, 320) and up.sx == pytest.approx(2.56)
    assert (up.resized_width, up.resized_height) == (320, 256)
    down = CanvasRule(size=(640, 480), upscale=True).place(1280, 1280)
    assert (down.width, down.height, down.resized_width, down.resized_height) == (640, 480, 480, 480)
    # a model's own fixed input wins over the rule's size
    fixed = CanvasRule(size=(320, 320), upscale=True).place(100, 100, model_size=(640, 640))
    assert (fixed.width, fixed.sx) == (640, 6.4)
    shrink_only = CanvasRule(max_side=320).place(1000, 500, model_size=(640, 640))
    assert (shrink_only.width, shrink_only.resized_width, shrink_only.resized_height) == (640, 320, 160)


@pytest.mark.parametrize("text,rule", [
    ("320", CanvasRule(size=(320, 320), upscale=True)),
    ("640x480", CanvasRule(size=(640, 480), upscale=True)),
    (" MAX320 ", CanvasRule(max_side=320)),
])
def test_parse_canvas(text, rule):
    assert parse_canvas(text) == rule
    assert parse_canvas(rule.label) == rule  # the label reads back


@pytest.mark.parametrize("text", ["", "31", "max31", "320x", "x320", "max", "big", "-320", "max 320"])
def test_bad_canvas_texts_say_what_is_accepted(text):
    with pytest.raises(ConfigError, match=r"N or WxH .* maxN"):
        parse_canvas(text)


def test_a_rule_is_fixed_or_fitted():
    with pytest.raises(ConfigError, match="either a fixed size or a max_side"):
        CanvasRule()
    with pytest.raises(ConfigError, match="either a fixed size or a max_side"):
        CanvasRule(size=(320, 320), max_side=320)
    with pytest.raises(ConfigError, match="at least 32"):
        CanvasRule(max_side=16)


def test_points_map_to_the_canvas_and_back_exactly():
    place = CanvasRule(max_side=100).place(333, 250)
    pts = np.random.default_rng(0).uniform(-5, 340, size=(50, 2))
    np.testing.assert_allclose(place.to_image(place.to_canvas(pts)), pts, atol=1e-9)
    boxes = np.array([[10.0, 20.0, 110.0, 140.0]])
    np.testing.assert_allclose(place.boxes_to_image(place.to_canvas(boxes.reshape(2, 2)).reshape(1, 4)), boxes)


def test_mapping_agrees_with_what_opencv_does_to_the_pixels():
    """A ramp image whose red value is the x coordinate (green: y), shrunk 4x: each canvas pixel
    holds the mean source coordinate it covers, which ``to_image`` must give back. The plain
    ``canvas / scale`` mapping would be 1.5 px off here."""
    pytest.importorskip("cv2")
    w, h = 248, 200
    xs, ys = np.meshgrid(np.arange(w), np.arange(h))
    image = np.stack([xs, ys, np.zeros_like(xs)], axis=-1).astype(np.uint8)
    place = CanvasRule(max_side=62).place(w, h)
    canvas = letterbox(image, place).astype(float)
    j, i = np.meshgrid(np.arange(2, place.resized_width - 2), np.arange(2, place.resized_height - 2))
    back = place.to_image(np.stack([j, i], axis=-1).astype(float))
    assert np.abs(back[..., 0] - canvas[i, j, 0]).max() <= 0.51
    assert np.abs(back[..., 1] - canvas[i, j, 1]).max() <= 0.51
    assert np.abs(j / place.sx - canvas[i, j, 0]).max() > 1.0  # the naive inverse misses


def test_an_enlarged_dot_maps_back_to_where_it_was():
    pytest.importorskip("cv2")
    image = np.zeros((50, 40, 3), np.uint8)
    image[21, 13] = 255
    place = CanvasRule(size=(128, 160), upscale=True).place(40, 50)  # x3.2, bilinear
    canvas = letterbox(image, place)[..., 0].astype(float)
    yy, xx = np.nonzero(canvas)
    weights = canvas[yy, xx]
    centre = np.array([np.average(xx, weights=weights), np.average(yy, weights=weights)])
    np.testing.assert_allclose(place.to_image(centre), [13, 21], atol=0.06)
    assert abs(centre[0] / place.sx - 13) > 0.3  # the naive inverse is off by 0.5 * (1 - 1/s)
