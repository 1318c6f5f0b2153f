"""The ONNX ArcFace embedder: declared preprocessing, batching (fixed and dynamic), overrides, errors."""

from __future__ import annotations

import numpy as np
import pytest

from facemetric.embed import embed_with_flip, flip_crops, make_embedder
from facemetric.errors import ConfigError, InputError

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def model(models_dir):
    return models_dir / "mobilefacenet_arcface_112.onnx"


@pytest.fixture(scope="module")
def embedder(model):
    return make_embedder(f"onnx:{model}", threads=1)


@pytest.fixture(scope="module")
def crops():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(5, 112, 112, 3), dtype=np.uint8)


def test_declared_attributes(embedder):
    assert embedder.input_size == (112, 112)
    assert embedder.color_order == "RGB" and embedder.mean == 127.5 and embedder.std == 127.5
    assert embedder.dim == 128 and embedder.template == "arcface112"
    assert len(embedder.model_hash) == 16 and embedder.name == "onnx:mobilefacenet_arcface_112.onnx"
    assert embedder.describe()["template"] == "arcface112"


def test_input_scaling_is_rgb_minus_127_5_over_127_5(embedder, model, crops):
    import onnxruntime as ort

    sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    x = (crops[:1].astype(np.float32) - 127.5) / 127.5
    ref = sess.run(None, {"input0": x.transpose(0, 3, 1, 2)})[0]
    out = embedder.embed(crops[:1])
    assert out.dtype == np.float32 and out.shape == (1, 128)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
    wrong = sess.run(None, {"input0": (crops[:1].astype(np.float32) / 255.0).transpose(0, 3, 1, 2)})[0]
    assert np.abs(wrong - ref).max() > 1e-2


def test_fixed_batch_one_is_looped(embedder, crops):
    together = embedder.embed(crops)
    one_by_one = np.concatenate([embedder.embed(c[None]) for c in crops])
    np.testing.assert_allclose(together, one_by_one, rtol=1e-5, atol=1e-6)
    assert embedder.embed(crops[:0]).shape == (0, 128)
    assert embedder.embed(crops[0]).shape == (1, 128)  # a single (H, W, 3) crop


class _BatchedSession:
    """Wrap the real batch-1 session to look like a model with batch ``batch`` ("N" for dynamic)."""

    def __init__(self, session, batch):
        self.session, self.calls = session, []
        inp, out = session.get_inputs()[0], session.get_outputs()[0]
        self._inp = type("Arg", (), {"name": inp.name, "shape": [batch, 3, 112, 112]})()
        self._out = type("Arg", (), {"name": out.name, "shape": [batch, 128]})()

    def get_inputs(self):
        return [self._inp]

    def get_outputs(self):
        return [self._out]

    def run(self, names, feed):
        x = feed[self._inp.name]
        self.calls.append(x.shape[0])
        return [np.concatenate([self.session.run(names, {self._inp.name: xi[None]})[0] for xi in x])]


@pytest.mark.parametrize("batch,batch_size,expected_calls", [("N", 2, [2, 2, 1]), (4, 32, [4, 4])])
def test_dynamic_and_fixed_batches(model, crops, embedder, monkeypatch, batch, batch_size, expected_calls):
    from facemetric.embed import onnx_arcface
    from facemetric.onnx_runtime import open_session

    holder = {}

    def fake_open(path, threads, what):
        holder["s"] = _BatchedSession(open_session(path, threads), batch)
        return holder["s"]

    monkeypatch.setattr(onnx_arcface, "open_session", fake_open)
    batched = onnx_arcface.OnnxArcFaceEmbedder(model, batch_size=batch_size)
    out = batched.embed(crops)
    assert holder["s"].calls == expected_calls
    np.testing.assert_allclose(out, embedder.embed(crops), rtol=1e-5, atol=1e-6)


def test_overrides_are_honoured(model, embedder, crops):
    bgr = make_embedder(f"onnx:{model}", color_order="bgr", threads=1)
    assert bgr.color_order == "BGR"
    np.testing.assert_allclose(bgr.embed(crops[:2]), embedder.embed(crops[:2, :, :, ::-1].copy()), atol=1e-5)
    scaled = make_embedder(f"onnx:{model}", mean=0.0, std=255.0, threads=1)
    assert not np.allclose(scaled.embed(crops[:1]), embedder.embed(crops[:1]))


def test_flip_fusion(embedder, crops):
    x, xf = embed_with_flip(embedder, crops[:3])
    np.testing.assert_allclose(x, embedder.embed(crops[:3]), atol=1e-6)
    np.testing.assert_allclose(xf, embedder.embed(crops[:3, :, ::-1].copy()), atol=1e-6)
    np.testing.assert_array_equal(flip_crops(crops)[:, :, 0], crops[:, :, -1])


def test_bad_inputs(model, embedder, crops):
    with pytest.raises(InputError, match=r"\(N, 112, 112, 3\)"):
        embedder.embed(np.zeros((2, 150, 150, 3), np.uint8))
    with pytest.raises(InputError, match="uint8"):
        embedder.embed(crops.astype(np.float32))
    with pytest.raises(ConfigError, match="makes 150x150 crops"):
        make_embedder(f"onnx:{model}", template="dlib150")
    with pytest.raises(ConfigError, match="no option 'size'"):
        make_embedder(f"onnx:{model}", size=3)
    with pytest.raises(ConfigError, match="'std'"):
        make_embedder(f"onnx:{model}", std=0)
    with pytest.raises(ConfigError, match="'color_order'"):
        make_embedder(f"onnx:{model}", color_order="HSV")
