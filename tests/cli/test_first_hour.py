"""What a new user runs into in the first hour, through the CLI as they call it (issue 10's should-fix list)."""

from __future__ import annotations

import os
import stat
import tempfile

import numpy as np
import pytest

from facemetric.cli.main import main
from facemetric.io import save_descriptors, save_protocol
from facemetric.types import DescriptorSet, PairProtocol


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def one_error_line(code, err):
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1 and len(lines) == 1 and lines[0].startswith("error: "), (code, err)
    assert "Traceback" not in err and "np.str_" not in err
    return lines[0]


def people(n_ids, per, dim=16, seed=0, prefix="p", singletons=0):
    """A descriptor set with identity structure; ``singletons`` extra people with one image each."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_ids + singletons, dim))
    counts = [per] * n_ids + [1] * singletons
    labels = np.repeat([f"{prefix}{i:03d}" for i in range(n_ids + singletons)], counts)
    X = np.repeat(centres, counts, axis=0) + 0.4 * rng.normal(size=(len(labels), dim))
    ids = [f"{lab}/{lab}_{k:04d}.jpg" for k, lab in enumerate(labels)]
    return DescriptorSet(X=X.astype(np.float32), labels=labels, ids=ids)


def pairs_of(ds: DescriptorSet, n: int, name="pairs") -> PairProtocol:
    """n positive and n negative pairs over the first images of each identity."""
    first = {}
    for i, lab in zip(ds.ids, ds.labels):
        first.setdefault(str(lab), []).append(str(i))
    names = [k for k, v in first.items() if len(v) >= 2][: 2 * n]
    a = [first[k][0] for k in names[:n]] + [first[names[k]][0] for k in range(n)]
    b = [first[k][1] for k in names[:n]] + [first[names[n + k]][0] for k in range(n)]
    return PairProtocol.from_id_pairs(a, b, labels=[1] * n + [0] * n, folds=[k % 2 for k in range(2 * n)],
                                      name=name)


def test_a_renamed_reference_file_is_the_same_backbone(tmp_path, capsys):
    """The LFW reference layout records no backbone: a renamed copy must not be 'another backbone'."""
    ds = people(30, 3)
    names = np.unique(ds.labels)
    ref = {"paths": ds.ids, "emb": ds.X, "emb_flip": ds.X + 0.01, "names": names,
           "labels": np.searchsorted(names, ds.labels)}
    np.savez(tmp_path / "descriptors_netA.npz", **ref)
    (tmp_path / "copy_of_it.npz").write_bytes((tmp_path / "descriptors_netA.npz").read_bytes())
    save_protocol(pairs_of(ds, 5), tmp_path / "pairs.csv")
    code, _, err = run(capsys, "fit", tmp_path / "descriptors_netA.npz", "--method", "lda", "--out", tmp_path / "m")
    assert code == 0, err
    code, _, err = run(capsys, "score", tmp_path / "copy_of_it.npz", tmp_path / "pairs.csv", "--model",
                       tmp_path / "m", "--out", tmp_path / "s.csv")
    assert code == 0, err
    code, out, _ = run(capsys, "info", tmp_path / "copy_of_it.npz", "--json")
    assert '"backbone": "unknown"' in out and "content_sha256" in out and "netA" not in out


def test_score_time_dimension_mismatch_names_the_file(tmp_path, capsys):
    save_descriptors(people(30, 3, dim=16), tmp_path / "train.npz")
    small = people(30, 3, dim=12, seed=1)
    save_descriptors(small, tmp_path / "test12.npz")
    save_protocol(pairs_of(small, 5), tmp_path / "pairs.csv")
    assert run(capsys, "fit", tmp_path / "train.npz", "--method", "lda", "--out", tmp_path / "m")[0] == 0
    code, _, err = run(capsys, "score", tmp_path / "test12.npz", tmp_path / "pairs.csv", "--model", tmp_path / "m",
                       "--out", tmp_path / "s.csv")
    line = one_error_line(code, err)
    assert str(tmp_path / "test12.npz") in line and "12" in line and "16" in line
    code, _, err = run(capsys, "evaluate", tmp_path / "test12.npz", tmp_path / "pairs.csv", "--model",
                       tmp_path / "m", "--out", tmp_path / "r", "--n-bootstrap", "0", "--no-plots")
    assert str(tmp_path / "test12.npz") in one_error_line(code, err)


def test_only_positive_pairs_names_the_file(tmp_path, capsys):
    ds = people(10, 3)
    save_descriptors(ds, tmp_path / "d.npz")
    (tmp_path / "pos.csv").write_text(f"a,b,label\n{ds.ids[0]},{ds.ids[1]},1\n{ds.ids[3]},{ds.ids[4]},1\n")
    code, _, err = run(capsys, "evaluate", tmp_path / "d.npz", tmp_path / "pos.csv", "--out", tmp_path / "r",
                       "--n-bootstrap", "0")
    line = one_error_line(code, err)
    assert line.startswith("error: pos.csv: all 2 labels are same-person")


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_output_files_respect_the_umask(tmp_path, capsys, mask, mode):
    ds = people(10, 3)
    save_descriptors(ds, tmp_path / "d.npz")
    save_protocol(pairs_of(ds, 4), tmp_path / "pairs.csv")
    old = os.umask(mask)
    try:
        code, _, err = run(capsys, "evaluate", tmp_path / "d.npz", tmp_path / "pairs.csv", "--out", tmp_path / "r",
                           "--n-bootstrap", "0", "--no-plots")
    finally:
        os.umask(old)
    assert code == 0, err
    assert stat.S_IMODE((tmp_path / "r" / "report.json").stat().st_mode) == mode


def test_extract_refuses_an_output_folder_that_does_not_exist(tmp_path, capsys):
    (tmp_path / "imgs" / "a").mkdir(parents=True)
    out = tmp_path / "nonexistent" / "dir" / "x.npz"
    code, _, err = run(capsys, "extract", tmp_path / "imgs", "--detector", "dlib", "--embedder", "dlib", "--out", out)
    line = one_error_line(code, err)
    assert "does not exist" in line and "mkdir -p" in line
    assert not (tmp_path / "nonexistent").exists()


def test_extract_checks_the_protocol_images_before_any_work(tmp_path, capsys):
    (tmp_path / "root" / "Someone").mkdir(parents=True)
    (tmp_path / "root" / "Someone" / "Someone_0001.jpg").write_bytes(b"not an image")
    (tmp_path / "pairs.txt").write_text("1 1\nAnn 1 2\nBob 1 Cid 2\n")
    code, _, err = run(capsys, "extract", tmp_path / "root", "--protocol", tmp_path / "pairs.txt", "--detector",
                       "dlib", "--embedder", "dlib", "--out", tmp_path / "x.npz", "--no-progress")
    line = one_error_line(code, err)
    assert "holds none of the 4 images" in line and "Ann/Ann_0001.jpg" in line
    assert not (tmp_path / "x.cache").exists()


def test_demo_needs_descriptors_and_leaves_no_temp_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    code, _, err = run(capsys, "challenge", "demo")
    assert code == 2 and "Missing option '--descriptors'" in err
    only_test_people = people(12, 2)  # every identity is in the pairs: nobody left to train on
    save_descriptors(only_test_people, tmp_path / "d.npz")
    save_protocol(pairs_of(only_test_people, 6), tmp_path / "pairs.csv")
    code, _, err = run(capsys, "challenge", "demo", "--descriptors", tmp_path / "d.npz", "--pairs",
                       tmp_path / "pairs.csv")
    assert "no identity is left for training" in one_error_line(code, err)
    assert list((tmp_path / "tmp").iterdir()) == []


def test_library_warnings_are_one_clean_line(tmp_path, capsys):
    """A warning raised deep in the library (singleton identities) shows as `warning: ...`, no source line."""
    ds = people(40, 3, singletons=15)
    test_part = people(12, 2, seed=5, prefix="t")
    both = DescriptorSet(X=np.r_[ds.X, test_part.X], labels=np.r_[ds.labels, test_part.labels],
                         ids=np.r_[ds.ids, test_part.ids])
    save_descriptors(both, tmp_path / "d.npz")
    save_protocol(pairs_of(test_part, 6), tmp_path / "pairs.csv")
    code, out, err = run(capsys, "challenge", "demo", "--descriptors", tmp_path / "d.npz", "--pairs",
                         tmp_path / "pairs.csv", "--out", tmp_path / "contest")
    assert code == 0, err
    warned = [line for line in err.splitlines() if line.strip()]
    assert warned and all(line.startswith("warning: ") for line in warned), err
    assert "dropped 15 of" in err and ".py:" not in err and "warnings.warn" not in err


def test_no_numpy_reprs_in_messages(tmp_path, capsys):
    flat = DescriptorSet(X=np.ones((4, 3), np.float32), labels=[""] * 4, ids=["a.jpg", "b.jpg", "c.jpg", "d.jpg"])
    save_descriptors(flat, tmp_path / "flat.npz")
    code, _, err = run(capsys, "fit", tmp_path / "flat.npz", "--method", "lda", "--out", tmp_path / "m")
    assert "'a.jpg'" in one_error_line(code, err)


def test_info_describes_a_model_folder(tmp_path, capsys):
    save_descriptors(people(20, 3), tmp_path / "train.npz")
    assert run(capsys, "fit", tmp_path / "train.npz", "--method", "wccn", "--out", tmp_path / "m")[0] == 0
    code, out, err = run(capsys, "info", tmp_path / "m", "--json")
    assert code == 0, err
    import json

    facts = json.loads(out)
    assert facts["kind"] == "model" and facts["method"] == "wccn" and facts["n_features_in"] == 16
    assert facts["n_training_identities"] == 20 and facts["params"]["shrinkage"] == 0.3


@pytest.mark.parametrize("data, extra, needle", [
    ((30, 4), ["--method", "lda", "--param", "n_components=500"],
     "LDA: n_components=500 but these data allow at most 16"),
    ((2, 3), ["--method", "plda"], "PLDA: fitted on 6 descriptors of 2 identities"),
])
def test_fit_warns_on_settings_that_make_no_sense(tmp_path, capsys, data, extra, needle):
    save_descriptors(people(*data), tmp_path / "train.npz")
    code, out, err = run(capsys, "fit", tmp_path / "train.npz", *extra, "--out", tmp_path / "m")
    assert code == 0, err
    warned = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert any(needle in line for line in warned), err


def test_ctrl_c_on_benchmark_says_a_rerun_resumes(tmp_path, capsys, monkeypatch):
    import facemetric.experiments.benchmark as bench

    ds = people(40, 3)
    save_descriptors(ds, tmp_path / "d.npz")
    save_protocol(pairs_of(ds, 8), tmp_path / "pairs.csv")
    argv = ["benchmark", tmp_path / "pairs.csv", "--test", tmp_path / "d.npz", "--methods", "center",
            "--n-bootstrap", "0", "--no-plots", "--out", tmp_path / "bench"]
    real, calls = bench.score_method, []

    def interrupted_after_one(spec, *args, **kwargs):
        calls.append(spec.label)
        if len(calls) > 1:
            raise KeyboardInterrupt
        return real(spec, *args, **kwargs)

    monkeypatch.setattr(bench, "score_method", interrupted_after_one)
    code, _, err = run(capsys, *argv)
    assert code == 130 and "run the same command again to resume" in err and "Traceback" not in err
    monkeypatch.setattr(bench, "score_method", lambda spec, *a, **k: calls.append(spec.label) or real(spec, *a, **k))
    calls.clear()
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    assert calls == ["l2", "center"]  # cosine came from the cache of the interrupted run


def test_a_one_fold_lfw_cut_is_evaluated_on_drawn_folds(tmp_path, capsys):
    """pairs.txt cut to its first fold (header `1 N`), the subset a newcomer makes first."""
    ds = people(40, 3)
    lines = ["1 6"]
    lines += [f"p{i:03d} 1 2" for i in range(6)]
    lines += [f"p{i:03d} 1 p{i + 10:03d} 1" for i in range(6)]
    (tmp_path / "pairs.txt").write_text("\n".join(lines) + "\n")
    renamed = DescriptorSet(X=ds.X, labels=ds.labels,
                            ids=[f"{lab}/{lab}_{k % 3 + 1:04d}.jpg" for k, lab in enumerate(ds.labels)])
    save_descriptors(renamed, tmp_path / "d.npz")
    code, out, err = run(capsys, "evaluate", tmp_path / "d.npz", tmp_path / "pairs.txt", "--out", tmp_path / "r",
                         "--n-bootstrap", "0", "--no-plots", "--seed", "4")
    assert code == 0, err
    import json

    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["n_pairs"] == 12 and not report["folds_from_protocol"] and report["n_folds"] == 6
    assert "note: pairs.txt has a single fold" in err and "seed 4" in err


def test_outside_a_terminal_long_jobs_print_progress_lines(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("FACEMETRIC_NO_PROGRESS", raising=False)
    monkeypatch.setenv("FACEMETRIC_PROGRESS_INTERVAL", "0")
    ds = people(30, 3)
    save_descriptors(ds, tmp_path / "d.npz")
    save_protocol(pairs_of(ds, 6), tmp_path / "pairs.csv")
    code, _, err = run(capsys, "evaluate", tmp_path / "d.npz", tmp_path / "pairs.csv", "--out", tmp_path / "r",
                       "--n-bootstrap", "40", "--no-plots")
    assert code == 0, err
    lines = [line for line in err.splitlines() if line.startswith("bootstrap: ")]
    assert len(lines) >= 2 and lines[-1].startswith("bootstrap: 40/40 (100%) after ")
    assert any("left" in line for line in lines[:-1])
    assert "━" not in err  # no bar drawn into a log


def test_evaluate_checks_inputs_before_the_progress_starts(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("FACEMETRIC_NO_PROGRESS", raising=False)
    ds = people(30, 3)
    save_descriptors(ds, tmp_path / "d.npz")
    (tmp_path / "past.csv").write_text(f"{ds.ids[0]},zz/zz_0001.jpg,1\n{ds.ids[1]},{ds.ids[5]},0\n")
    code, _, err = run(capsys, "evaluate", tmp_path / "d.npz", tmp_path / "past.csv", "--method", "lda",
                       "--out", tmp_path / "r", "--missing", "error")
    assert "past.csv:1: image 'zz/zz_0001.jpg' has no descriptor" in one_error_line(code, err)
