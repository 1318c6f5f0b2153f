"""Finding 2: a contest on a public benchmark is no contest; create and demo say so, the docs say why."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facemetric.challenge.demo import split_train_test
from facemetric.cli.main import main
from facemetric.io import load_descriptors, load_protocol, save_descriptors, save_protocol
from facemetric.types import DescriptorSet, PairProtocol

DOCS = Path(__file__).resolve().parents[2] / "docs" / "challenge.md"


def create(capsys, tmp_path, train, test, pairs_path) -> tuple[int, str, str]:
    save_descriptors(train, tmp_path / "train.npz")
    save_descriptors(test, tmp_path / "test.npz")
    code = main(
        [
            "challenge", "create",
            "--train", str(tmp_path / "train.npz"),
            "--test", str(tmp_path / "test.npz"),
            "--pairs", str(pairs_path),
            "--out", str(tmp_path / "contest"),
        ]
    )  # fmt: skip
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.shared
def test_create_on_lfw_pairs_warns(capsys, lfw_dir, tmp_path):
    descriptors = load_descriptors(lfw_dir / "descriptors_mobilefacenet_112x96.npz")
    train, test = split_train_test(descriptors, load_protocol(lfw_dir / "pairs.txt"))
    code, out, err = create(capsys, tmp_path, train, test, lfw_dir / "pairs.txt")
    assert code == 0, err
    assert err.startswith("warning: the test pairs come from the public LFW benchmark")
    assert "recover every label" in err and "docs/challenge.md" in err
    assert out.strip().splitlines()[-1].startswith("fmc_")  # the admin token stays the last line


@pytest.mark.shared
def test_the_warning_is_warranted_labels_come_back_from_the_public_file(lfw_dir, tmp_path):
    """The attack the warning is about: look each test descriptor up in the public file."""
    import csv

    from sklearn.metrics import roc_auc_score

    from facemetric.challenge import create_challenge

    public = load_descriptors(lfw_dir / "descriptors_mobilefacenet_112x96.npz")
    protocol = load_protocol(lfw_dir / "pairs.txt")
    train, test = split_train_test(public, protocol)
    create_challenge(train, test, protocol, tmp_path / "c")
    bundle = load_descriptors(tmp_path / "c" / "bundle" / "test.npz")
    name_of_row = {row.tobytes(): name for row, name in zip(public.X, public.labels)}
    name = {i: name_of_row[x.tobytes()] for i, x in zip(bundle.ids, bundle.X)}  # byte for byte
    with open(tmp_path / "c" / "bundle" / "test_pairs.csv", newline="") as fh:
        pairs = list(csv.reader(fh))[1:]
    with open(tmp_path / "c" / "organiser" / "answers.csv", newline="") as fh:
        truth = {r[0]: int(r[1]) for r in list(csv.reader(fh))[1:]}
    guess = [float(name[a] == name[b]) for _, a, b in pairs]
    assert roc_auc_score([truth[p] for p, _, _ in pairs], guess) == 1.0


def test_public_layout_warns_even_when_saved_as_csv(capsys, contest_data, tmp_path):
    """LFW pairs re-saved as CSV keep LFW's file names, and the warning."""
    train, test, protocol = contest_data
    rename = {
        i: f"Ann_Lee{i.split('/')[0][-4:]}/Ann_Lee{i.split('/')[0][-4:]}_{i[-8:-4]}.jpg" for i in test.ids
    }
    lfw_like = DescriptorSet(
        X=test.X, X_flip=test.X_flip, labels=test.labels, ids=np.array([rename[i] for i in test.ids])
    )
    renamed = PairProtocol.from_id_pairs(
        [rename[i] for i in protocol.a], [rename[i] for i in protocol.b], labels=protocol.labels
    )
    save_protocol(renamed, tmp_path / "pairs.csv")
    code, _, err = create(capsys, tmp_path, train, lfw_like, tmp_path / "pairs.csv")
    assert code == 0 and "public LFW benchmark" in err


def test_private_data_gives_no_warning(capsys, contest_data, tmp_path):
    train, test, protocol = contest_data
    save_protocol(protocol, tmp_path / "pairs.csv")
    code, _, err = create(capsys, tmp_path, train, test, tmp_path / "pairs.csv")
    assert code == 0 and "warning" not in err


def test_docs_explain_a_real_contest_on_private_data():
    text = DOCS.read_text(encoding="utf-8")
    assert "## A real contest needs private data" in text
    section = text.split("## A real contest needs private data", 1)[1].split("\n## ", 1)[0]
    for must in ("private", "byte for byte", "never", "organiser/test_ids.csv"):
        assert must in section, must
