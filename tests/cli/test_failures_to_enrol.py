"""Failures to enrol end to end, on real LFW photos (../shared/data) run through SCRFD and the ONNX
embedder: a copy of part of the LFW tree, and a small CFP-layout tree built from LFW photos, in
which a few photos are made face-less here. `extract` lists them; `evaluate` and `benchmark`
(k-fold and train/test) count their pairs as rejections and list them; the acceptance interface
of issue 8 is run with exactly its commands."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facemetric.cli.main import main
from facemetric.io import load_descriptors, load_protocol

pytestmark = pytest.mark.slow

N_LFW, N_CFP = 10, 9  # people in each tree


def _people(lfw_dir: Path) -> list[str]:
    """LFW people with at least 6 photos, in sorted order (deterministic)."""
    images = lfw_dir / "images"
    return sorted(p.name for p in images.iterdir() if p.is_dir() and sum(1 for _ in p.iterdir()) >= 6)


def _face_less(path: Path) -> None:
    """Overwrite a photo with its own mean colour and faint noise: no detector finds a face in it."""
    with Image.open(path) as im:
        arr = np.asarray(im.convert("RGB"), dtype=np.float64)
    rng = np.random.default_rng(0)
    flat = arr.mean(axis=(0, 1)) + rng.normal(0, 2, arr.shape)
    Image.fromarray(np.clip(flat, 0, 255).astype(np.uint8)).save(path, quality=95)


def _models(models_dir: Path) -> list[str]:
    return ["--detector", f"scrfd:{models_dir / 'scrfd_2.5g_bnkps.onnx'}",
            "--embedder", f"onnx:{models_dir / 'mobilefacenet_arcface_112.onnx'}"]


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _failures(report: Path) -> dict[str, dict[str, str]]:
    with open(report, newline="") as fh:
        return {row["image"]: row for row in csv.DictReader(fh)}


# --- a copy of part of LFW, with pairs.txt --------------------------------------------------------

@pytest.fixture(scope="module")
def lfw_tree(lfw_dir, tmp_path_factory):
    """10 LFW people x 4 photos (Name/Name_NNNN.jpg), a 2-fold pairs.txt over 8 of them, and 3 photos made
    face-less; the other 2 people are the training set of train/test mode."""
    root = tmp_path_factory.mktemp("lfw-copy") / "images"
    people = _people(lfw_dir)[:N_LFW]
    for name in people:
        (root / name).mkdir(parents=True)
        for k in range(1, 5):
            shutil.copy(lfw_dir / "images" / name / f"{name}_{k:04d}.jpg", root / name)
    test_people = people[:8]
    folds = [test_people[:4], test_people[4:]]
    # exactly 6 matched then 6 mismatched pairs per fold
    body = []
    for group in folds:
        same = [f"{group[0]}\t1\t2", f"{group[0]}\t3\t4", f"{group[1]}\t1\t2", f"{group[1]}\t3\t4",
                f"{group[2]}\t1\t3", f"{group[3]}\t2\t4"]
        diff = [f"{group[i]}\t{1 + i % 4}\t{group[(i + 1) % 4]}\t{4 - i % 4}" for i in range(4)]
        diff += [f"{group[0]}\t3\t{group[2]}\t3", f"{group[1]}\t4\t{group[3]}\t2"]
        body += same + diff
    pairs = root.parent / "pairs.txt"
    pairs.write_text("\n".join(["2\t6"] + body) + "\n")
    gone = [f"{folds[0][0]}/{folds[0][0]}_0001.jpg", f"{folds[1][2]}/{folds[1][2]}_0003.jpg",
            f"{folds[1][3]}/{folds[1][3]}_0004.jpg"]
    for rel in gone:
        _face_less(root / rel)
    return root, pairs, sorted(gone), people[8:]


@pytest.fixture(scope="module")
def lfw_descriptors_with_failures(lfw_tree, models_dir, tmp_path_factory):
    root, pairs, gone, train_people = lfw_tree
    out = tmp_path_factory.mktemp("lfw-desc") / "lfw.npz"
    code = main(["extract", str(root), *_models(models_dir), "--flip", "--out", str(out), "--workers", "1",
                 "--no-progress"])
    assert code == 0
    return out


def test_extract_lists_the_face_less_photos(lfw_tree, lfw_descriptors_with_failures):
    root, pairs, gone, _ = lfw_tree
    failures = _failures(lfw_descriptors_with_failures.with_name("lfw.failures.csv"))
    assert sorted(failures) == gone and {f["reason"] for f in failures.values()} == {"no face"}
    ds = load_descriptors(lfw_descriptors_with_failures)
    assert len(ds) == 40 - 3 and not set(gone) & set(ds.ids.tolist())
    assert set(ds.labels.tolist()) == {p.name for p in root.iterdir()}  # LFW names from the layout


def test_evaluate_counts_the_pairs_of_face_less_photos_as_rejections(lfw_tree, lfw_descriptors_with_failures,
                                                                     tmp_path, capsys):
    root, pairs, gone, _ = lfw_tree
    protocol = load_protocol(pairs)
    hit = np.isin(protocol.a, gone) | np.isin(protocol.b, gone)
    assert 0 < hit.sum() < len(protocol)
    code, out, err = _run(capsys, "evaluate", lfw_descriptors_with_failures, pairs, "--out", tmp_path / "r",
                          "--n-bootstrap", "50", "--no-plots")
    assert code == 0, err
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["n_pairs"] == len(protocol) == 24 and report["n_missing_pairs"] == int(hit.sum())
    assert report["missing_policy"] == "reject"
    assert report["missing"]["images"] == gone and report["missing"]["n_images"] == 3
    assert report["missing"]["pairs"] == protocol.pair_ids[hit].tolist()
    assert [s is None for s in report["pairs"]["score"]] == hit.tolist()
    assert report["pairs"]["a"] == protocol.a.tolist() and report["pairs"]["b"] == protocol.b.tolist()
    # a rejected genuine pair is a false reject at every threshold: the AUC counts it below every score
    from sklearn.metrics import roc_auc_score

    scores = np.array([-1e9 if s is None else s for s in report["pairs"]["score"]])
    assert report["auc"] == pytest.approx(roc_auc_score(protocol.labels, scores))
    text = out + err
    assert "no descriptor" in text and "rejected" in text
    # drop leaves them out; error refuses
    code, _, err = _run(capsys, "evaluate", lfw_descriptors_with_failures, pairs, "--out", tmp_path / "d",
                        "--n-bootstrap", "0", "--no-plots", "--missing", "drop")
    assert code == 0, err
    assert json.loads((tmp_path / "d" / "report.json").read_text())["n_pairs"] == int((~hit).sum())
    code, _, err = _run(capsys, "evaluate", lfw_descriptors_with_failures, pairs, "--out", tmp_path / "e",
                        "--n-bootstrap", "0", "--no-plots", "--missing", "error")
    assert code == 1 and "has no descriptor" in err and "--missing reject" in err


@pytest.mark.parametrize("mode", ["kfold", "train-test"])
def test_benchmark_counts_them_too(lfw_tree, lfw_descriptors_with_failures, tmp_path, capsys, mode):
    root, pairs, gone, train_people = lfw_tree
    protocol = load_protocol(pairs)
    hit = np.isin(protocol.a, gone) | np.isin(protocol.b, gone)
    argv = ["benchmark", pairs, "--test", lfw_descriptors_with_failures, "--methods", "center",
            "--out", tmp_path / "b", "--n-bootstrap", "20", "--no-plots", "--no-progress"]
    if mode == "train-test":
        ds = load_descriptors(lfw_descriptors_with_failures)
        from facemetric.io import save_descriptors

        save_descriptors(ds.subset(np.flatnonzero(np.isin(ds.labels, train_people))), tmp_path / "train.npz")
        argv += ["--train", tmp_path / "train.npz"]
    code, out, err = _run(capsys, *argv)
    assert code == 0, err
    rows = json.loads((tmp_path / "b" / "benchmark.json").read_text())
    config = json.loads((tmp_path / "b" / "config.json").read_text())
    assert {r["method"] for r in rows} == {"cosine", "l2", "center"}
    assert all(r["n_pairs"] == len(protocol) and r["mode"] == mode for r in rows)
    # intervals resample the 8 people of the pairs; k-fold compares per fold, train/test pooled
    assert all(r["resample"] == "identity" and r["n_resample_units"] == 8 for r in rows)
    assert {r["comparison"].split(":")[0] for r in rows} == {"per fold, paired" if mode == "kfold" else "pooled"}
    assert config["missing_policy"] == "reject" and config["n_missing_pairs"] == int(hit.sum())
    assert config["missing"]["images"] == gone
    assert "have no descriptor" in out + err


# --- a CFP-layout tree: the acceptance interface ---------------------------------------------------

@pytest.fixture(scope="module")
def cfp_tree(lfw_dir, tmp_path_factory):
    """9 people as CFP lays them out (Data/Images/<id>/{frontal,profile}/NN.jpg, LFW photos standing in:
    2 frontal and 2 profile each), Protocol/Pair_list_{F,P}.txt and Split/FP/01..03/{same,diff}.txt
    (3 people per fold), and 2 profile photos made face-less."""
    root = tmp_path_factory.mktemp("cfp") / "cfp-dataset"
    people = _people(lfw_dir)[N_LFW:N_LFW + N_CFP]
    frontal_list, profile_list = [], []
    for i, name in enumerate(people, start=1):
        photos = [lfw_dir / "images" / name / f"{name}_{k:04d}.jpg" for k in range(1, 5)]
        for pose, chosen in (("frontal", photos[:2]), ("profile", photos[2:])):
            folder = root / "Data" / "Images" / f"{i:03d}" / pose
            folder.mkdir(parents=True)
            for k, photo in enumerate(chosen, start=1):
                shutil.copy(photo, folder / f"{k:02d}.jpg")
                (frontal_list if pose == "frontal" else profile_list).append(f"../Data/Images/{i:03d}/{pose}/{k:02d}.jpg")
    proto = root / "Protocol"
    (proto / "Split" / "FP").mkdir(parents=True)
    (proto / "Pair_list_F.txt").write_text("".join(f"{k} {p}\n" for k, p in enumerate(frontal_list, start=1)))
    (proto / "Pair_list_P.txt").write_text("".join(f"{k} {p}\n" for k, p in enumerate(profile_list, start=1)))
    for f in range(3):
        fold = proto / "Split" / "FP" / f"{f + 1:02d}"
        fold.mkdir()
        members = range(3 * f, 3 * f + 3)  # person index 0..8
        same = [f"{2 * p + j + 1},{2 * p + k + 1}" for p in members for j, k in ((0, 0), (1, 1))]
        diff = [f"{2 * p + 1},{2 * q + 2}" for p in members for q in members if q != p]
        (fold / "same.txt").write_text("\n".join(same) + "\n")
        (fold / "diff.txt").write_text("\n".join(diff) + "\n")
    gone = ["Data/Images/002/profile/01.jpg", "Data/Images/008/profile/02.jpg"]
    for rel in gone:
        _face_less(root / rel)
    return root, gone


def test_acceptance_interface_on_a_cfp_tree(cfp_tree, models_dir, tmp_path, capsys):
    root, gone = cfp_tree
    d = tmp_path / "D.npz"
    # exactly the commands of the issue, with no other option
    code, out, err = _run(capsys, "extract", root, "--detector", f"scrfd:{models_dir / 'scrfd_2.5g_bnkps.onnx'}",
                          "--embedder", f"onnx:{models_dir / 'mobilefacenet_arcface_112.onnx'}", "--flip",
                          "--out", d)
    assert code == 0, err
    ds = load_descriptors(d)
    # the right identities: the person folder, for frontal and profile photos alike
    assert ds.labels.tolist() == [i.split("/")[2] for i in ds.ids]
    assert len(set(ds.labels.tolist())) == N_CFP and "warning" not in err
    assert sorted(_failures(tmp_path / "D.failures.csv")) == gone

    code, out, err = _run(capsys, "evaluate", d, root, "--format", "cfp-fp", "--method", "cosine",
                          "--out", tmp_path / "DIR")
    assert code == 0, err
    report = json.loads((tmp_path / "DIR" / "report.json").read_text())
    protocol = load_protocol(root, format="cfp-fp")
    hit = np.isin(protocol.a, gone) | np.isin(protocol.b, gone)
    assert report["n_pairs"] == len(protocol) and report["n_missing_pairs"] == int(hit.sum()) > 0
    assert report["missing_policy"] == "reject" and report["missing"]["images"] == gone
    assert report["pairs"]["a"] == protocol.a.tolist() and report["pairs"]["b"] == protocol.b.tolist()
    assert all(i.startswith("Data/Images/") for i in report["pairs"]["a"] + report["pairs"]["b"])
    assert [s is None for s in report["pairs"]["score"]] == hit.tolist()
    assert report["cis"]["auc"][0] <= report["auc"] <= report["cis"]["auc"][1]
    # the default interval resamples the 9 people (CFP's folders), rejected pairs included
    assert report["resample"] == "identity" and report["n_resample_units"] == N_CFP
    assert report["warnings"] == []  # no false leak warning, no np.str_

    code, out, err = _run(capsys, "benchmark", "--test", d, root, "--format", "cfp-fp", "--methods", "cosine,plda",
                          "--out", tmp_path / "BENCH")
    assert code == 0, err
    rows = {r["method"]: r for r in json.loads((tmp_path / "BENCH" / "benchmark.json").read_text())}
    assert set(rows) == {"cosine", "l2", "plda"}
    for row in rows.values():
        assert row.get("error") is None and row["mode"] == "kfold" and row["n_pairs"] == len(protocol)
        assert len(row["fold_auc"]) == 3 and len(row["n_train"]) == 3
    # identity-disjoint: each fold's PLDA saw the 6 people of the other folds, never its own 3
    assert all(n <= 6 * 4 for n in rows["plda"]["n_train"])
    # one k-fold rule: PLDA's thresholds are its own models', the comparison with cosine is per fold
    assert rows["plda"]["threshold_rule"].endswith("chose on its training folds' pairs")
    assert len(rows["plda"]["one_minus_auc_change_per_fold_pct"]) <= 3 and rows["plda"]["resample"] == "identity"
    assert json.loads((tmp_path / "BENCH" / "config.json").read_text())["n_missing_pairs"] == int(hit.sum())
