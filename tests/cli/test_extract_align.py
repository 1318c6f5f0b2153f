"""`facemetric extract` and `facemetric align` on a few real LFW images, and their bad-input errors."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from facemetric.cli.main import main
from facemetric.io import load_descriptors

IMAGES = [
    "Aaron_Eckhart/Aaron_Eckhart_0001.jpg",
    "Abel_Pacheco/Abel_Pacheco_0001.jpg",
    "Abel_Pacheco/Abel_Pacheco_0004.jpg",
    "Akhmed_Zakayev/Akhmed_Zakayev_0001.jpg",
    "Akhmed_Zakayev/Akhmed_Zakayev_0003.jpg",
]


@pytest.fixture
def image_list(tmp_path) -> Path:
    path = tmp_path / "list.txt"
    path.write_text("\n".join(IMAGES) + "\n")
    return path


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    return err


def test_extract_scrfd_onnx_on_real_lfw_images(lfw_dir, models_dir, image_list, tmp_path, capsys):
    from facemetric.align import align_face
    from facemetric.detect import choose_face, make_detector
    from facemetric.embed import make_embedder
    from facemetric.images import read_image

    out = tmp_path / "lfw.npz"
    detector = f"scrfd:{models_dir / 'scrfd_2.5g_bnkps.onnx'}"
    embedder = f"onnx:{models_dir / 'mobilefacenet_arcface_112.onnx'}"
    args = ["extract", str(lfw_dir / "images"), "--list", str(image_list), "--detector", detector,
            "--embedder", embedder, "--flip", "--out", str(out), "--workers", "1", "--no-progress"]
    assert main(args) == 0, capsys.readouterr().err
    assert "5 descriptors (dim 128, with flipped) of 5 images" in capsys.readouterr().out
    ds = load_descriptors(out)
    assert ds.ids.tolist() == IMAGES
    assert ds.labels.tolist() == [i.split("/")[0] for i in IMAGES]
    assert ds.provenance.alignment == "arcface112" and ds.provenance.color_order == "RGB"
    assert ds.provenance.detector == "scrfd:scrfd_2.5g_bnkps.onnx" and ds.X_flip is not None  # no path
    # the stored descriptor is what the library stages give when called one by one
    image = read_image(lfw_dir / "images" / IMAGES[1])
    face = choose_face(make_detector(detector).detect(image), image.shape, "largest")
    crop = align_face(image, face.landmarks, "arcface112").crop
    np.testing.assert_allclose(ds.X[1], make_embedder(embedder).embed(crop[None])[0], rtol=1e-4, atol=1e-4)
    # same person scores above different people
    fused = ds.fused("sum").X
    same = [_cos(fused[1], fused[2]), _cos(fused[3], fused[4])]
    diff = [_cos(fused[0], fused[1]), _cos(fused[2], fused[3]), _cos(fused[0], fused[4])]
    assert min(same) > 0.4 > max(diff)
    # a second run comes from the cache
    assert main(args) == 0
    assert "5 from the cache" in capsys.readouterr().out


def test_extract_given_landmarks_with_workers(lfw_dir, models_dir, image_list, tmp_path, capsys):
    out = tmp_path / "lm.npz"
    args = ["extract", str(lfw_dir / "images"), "--list", str(image_list),
            "--detector", f"landmarks:{lfw_dir / 'landmarks_mtcnn_5pt.txt'}",
            "--embedder", f"onnx:{models_dir / 'mobilefacenet_arcface_112.onnx'}",
            "--out", str(out), "--workers", "2", "--no-progress"]
    assert main(args) == 0, capsys.readouterr().err
    ds = load_descriptors(out)
    assert len(ds) == 5 and ds.X_flip is None
    assert _cos(ds.X[1], ds.X[2]) > _cos(ds.X[0], ds.X[1])


def test_extract_dlib_on_real_lfw_images(lfw_dir, image_list, tmp_path, capsys):
    out = tmp_path / "dlib.npz"
    lst = tmp_path / "three.txt"
    lst.write_text("\n".join(IMAGES[1:4]) + "\n")
    args = ["extract", str(lfw_dir / "images"), "--list", str(lst), "--detector", "dlib", "--upsample", "0,1",
            "--embedder", "dlib", "--face", "central", "--out", str(out), "--workers", "1", "--no-progress"]
    assert main(args) == 0, capsys.readouterr().err
    ds = load_descriptors(out)
    # dlib + dlib uses dlib's own chip (get_face_chip from the 68 points), not the 5-point template
    assert ds.dim == 128 and ds.provenance.alignment == "dlib-chip150"
    assert ds.provenance.detector == "dlib@0,1" and ds.provenance.extra["detector_name"].startswith("dlib-hog@up0,1")
    assert ds.provenance.extra["face_policy"] == "central"
    # dlib's own rule: same person when the Euclidean distance is below 0.6
    assert np.linalg.norm(ds.X[0] - ds.X[1]) < 0.6 < np.linalg.norm(ds.X[1] - ds.X[2])


def test_extract_protocol_images(lfw_dir, models_dir, tmp_path, capsys):
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("1\t1\nAbel_Pacheco\t1\t4\nAaron_Eckhart\t1\tAkhmed_Zakayev\t3\n")
    out = tmp_path / "p.npz"
    args = ["extract", str(lfw_dir / "images"), "--protocol", str(pairs), "--format", "lfw",
            "--detector", f"landmarks:{lfw_dir / 'landmarks_mtcnn_5pt.txt'}",
            "--embedder", f"onnx:{models_dir / 'mobilefacenet_arcface_112.onnx'}",
            "--out", str(out), "--workers", "1", "--no-progress"]
    assert main(args) == 0, capsys.readouterr().err
    assert sorted(load_descriptors(out).ids.tolist()) == sorted(
        ["Abel_Pacheco/Abel_Pacheco_0001.jpg", "Abel_Pacheco/Abel_Pacheco_0004.jpg",
         "Aaron_Eckhart/Aaron_Eckhart_0001.jpg", "Akhmed_Zakayev/Akhmed_Zakayev_0003.jpg"])


def test_align_writes_crops_and_a_contact_sheet(lfw_dir, models_dir, image_list, tmp_path, capsys):
    from PIL import Image

    out = tmp_path / "aligned"
    args = ["align", str(lfw_dir / "images"), "--list", str(image_list), "--detector",
            f"scrfd:{models_dir / 'scrfd_2.5g_bnkps.onnx'}", "--template", "sphereface112x96", "--out", str(out),
            "--no-progress"]
    assert main(args) == 0, capsys.readouterr().err
    for rel in IMAGES:
        with Image.open(out / Path(rel).with_suffix(".png")) as im:
            assert im.size == (96, 112)
    with Image.open(out / "contact_sheet.png") as sheet:
        assert sheet.size == (3 * 98 + 2, 2 * 114 + 2)  # 5 crops in 3 columns with 2 px gaps
        arr = np.asarray(sheet)
    assert (arr[..., 0] == 255).any() and ((arr == (255, 0, 0)).all(axis=2)).sum() >= 5 * 5
    with open(out / "failures.csv", newline="") as fh:
        assert list(csv.reader(fh)) == [["image", "reason", "detail", "fallback"]]


@pytest.fixture
def tiny_tree(tmp_path) -> Path:
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1] / "extract"))
    from fakes import synthetic_image

    root = tmp_path / "images"
    synthetic_image(root / "A" / "a.png", 1, face=None)
    return root


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--detector", "retina:x.onnx", "--embedder", "dlib"], "unknown detector 'retina'"),
        (["--detector", "dlib", "--embedder", "torch:x.pt"], "unknown embedder 'torch'"),
        (["--detector", "scrfd", "--embedder", "dlib"], "needs a file after ':'"),
        (["--detector", "dlib", "--embedder", "dlib", "--face", "biggest"], "--face must be one of largest, central"),
        (["--detector", "dlib", "--embedder", "dlib", "--det-size", "320"], "--det-size applies to scrfd and yunet"),
        (["--detector", "scrfd:m.onnx", "--embedder", "dlib", "--det-size", "3x"], "--det-size must be N or WxH"),
        (["--detector", "scrfd:m.onnx@320", "--embedder", "dlib", "--det-size", "320"], "either in the spec"),
        (["--detector", "scrfd:m.onnx", "--embedder", "dlib", "--upsample", "1"], "dlib detector only"),
        (["--detector", "dlib", "--embedder", "dlib", "--upsample", "two"], "'upsample' parameter of dlib"),
        (["--detector", "dlib@1,0", "--embedder", "dlib"], "'upsample' parameter of dlib"),
        (["--detector", "landmarks:f.txt@320", "--embedder", "dlib"], "takes no '@' suffix"),
        (["--detector", "dlib", "--embedder", "dlib", "--workers", "0"], "--workers must be >= 1"),
        (["--detector", "dlib", "--embedder", "dlib", "--list", "l.txt", "--protocol", "p.txt"],
         "either --list or --protocol"),
    ],
)
def test_extract_bad_options_are_one_line_errors(tiny_tree, tmp_path, capsys, extra, message):
    args = ["extract", str(tiny_tree), "--out", str(tmp_path / "o.npz"), "--workers", "1", "--no-progress", *extra]
    if "--workers" in extra:
        args.remove("--workers"), args.remove("1")
    assert main(args) == 1
    assert message in _one_error_line(capsys)


def test_extract_bad_roots_and_all_failures(tiny_tree, tmp_path, capsys):
    base = ["--detector", "dlib", "--embedder", "dlib", "--workers", "1", "--no-progress"]
    assert main(["extract", str(tmp_path / "nope"), "--out", str(tmp_path / "o.npz"), *base]) == 1
    assert "does not exist" in _one_error_line(capsys)
    (tmp_path / "empty").mkdir()
    assert main(["extract", str(tmp_path / "empty"), "--out", str(tmp_path / "o.npz"), *base]) == 1
    assert "holds no image files" in _one_error_line(capsys)
    assert main(["extract", str(tiny_tree), "--out", str(tmp_path / "o.npz"), *base]) == 1
    assert "all 1 image(s) failed (no face)" in _one_error_line(capsys)
    assert main(["extract", str(tiny_tree), "--out", str(tmp_path / "o.csv"), *base]) == 1
    assert "must end in .npz or .parquet" in _one_error_line(capsys)


def test_extract_and_align_with_detector_size(lfw_dir, models_dir, tmp_path, capsys):
    lst = tmp_path / "two.txt"
    lst.write_text("\n".join(IMAGES[:2]) + "\n")
    model = models_dir / "scrfd_2.5g_bnkps.onnx"
    out = tmp_path / "s.npz"
    args = ["extract", str(lfw_dir / "images"), "--list", str(lst), "--detector", f"scrfd:{model}", "--det-size",
            "320", "--embedder", f"onnx:{models_dir / 'mobilefacenet_arcface_112.onnx'}", "--out", str(out),
            "--workers", "1", "--no-progress"]
    assert main(args) == 0, capsys.readouterr().err
    ds = load_descriptors(out)
    # provenance names the model file, never a path of this machine, and records its content hash
    assert len(ds) == 2 and ds.provenance.detector == "scrfd:scrfd_2.5g_bnkps.onnx@320x320"
    assert "@320x320" in ds.provenance.extra["detector_name"]
    from facemetric.io.digest import file_digest

    assert ds.provenance.extra["detector_hash"] == file_digest(model, length=16)
    assert str(models_dir) not in ds.provenance.to_json()
    # the same through the spec suffix, for align
    args = ["align", str(lfw_dir / "images"), "--list", str(lst), "--detector", f"scrfd:{model}@320",
            "--face", "central", "--out", str(tmp_path / "al"), "--no-progress"]
    assert main(args) == 0, capsys.readouterr().err
    assert "2 aligned arcface112 crops" in capsys.readouterr().out
    assert main([*args[:-1], "--det-size", "320", "--no-progress"]) == 1
    assert "either in the spec" in _one_error_line(capsys)


def test_align_bad_template_and_no_faces(tiny_tree, tmp_path, capsys):
    assert main(["align", str(tiny_tree), "--detector", "dlib", "--template", "vgg", "--out", str(tmp_path)]) == 1
    assert "unknown alignment template 'vgg'" in _one_error_line(capsys)
    assert main(["align", str(tiny_tree), "--detector", "dlib", "--out", str(tmp_path / "a"), "--no-progress"]) == 1
    assert "no face aligned" in _one_error_line(capsys)


@pytest.mark.parametrize("verb", [["extract"], ["align"], ["datasets", "fetch"]])
def test_every_command_has_help(verb, capsys):
    assert main([*verb, "--help"]) == 0
    assert len(capsys.readouterr().out) > 200


def test_ctrl_c_then_the_same_command_resumes(lfw_dir, models_dir, tmp_path):
    """SIGINT the real CLI mid-run: exit 130 and a hint; the rerun takes committed images from the cache."""
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    from facemetric.extract.cache import CACHE_FILE

    names = sorted(p.relative_to(lfw_dir / "images").as_posix()
                   for p in (lfw_dir / "images").glob("A*/*.jpg"))[:120]
    lst = tmp_path / "list.txt"
    lst.write_text("\n".join(names) + "\n")
    out, cache = tmp_path / "o.npz", tmp_path / "o.cache"
    cmd = [sys.executable, "-m", "facemetric.cli.main", "extract", str(lfw_dir / "images"), "--list", str(lst),
           "--detector", f"landmarks:{lfw_dir / 'landmarks_mtcnn_5pt.txt'}",
           "--embedder", f"onnx:{models_dir / 'mobilefacenet_arcface_112.onnx'}", "--flip",
           "--out", str(out), "--workers", "1", "--batch-size", "1", "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    committed, deadline = 0, time.time() + 120
    while time.time() < deadline and proc.poll() is None and committed < 2:
        if (cache / CACHE_FILE).exists():
            try:
                with sqlite3.connect(cache / CACHE_FILE) as db:
                    committed = db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
            except sqlite3.OperationalError:
                pass
        time.sleep(0.02)
    if proc.poll() is not None:
        pytest.skip("the extraction finished before it could be interrupted")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "run the same command again to resume" in err and "Traceback" not in err
    assert not out.exists()
    with sqlite3.connect(cache / CACHE_FILE) as db:
        committed = db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    assert 2 <= committed < len(names)  # 120 images: far more than run between the poll and the signal
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{committed} from the cache" in done.stdout
