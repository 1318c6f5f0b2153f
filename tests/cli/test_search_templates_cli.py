"""`facemetric search` and `facemetric templates` as a user calls them: figures, files and bad inputs.

The real-data tests split the LFW reference descriptors (people with several photos into gallery
and probes, a share of the people left out as non-mated probes) and recompute every figure with
numpy from the full probe x template score matrix.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from facemetric.cli.main import main
from facemetric.io import save_descriptors
from facemetric.metrics import make_metric
from facemetric.metrics.persist import save_model
from facemetric.templates.builder import split_gallery_probes
from facemetric.templates.ijb import write_face_tid_mid
from facemetric.templates.protocol import TemplateMap
from facemetric.types import DescriptorSet, Provenance


def _set(n_ids=30, per_id=4, dim=8, seed=0, backbone="bb", prefix="P"):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_ids, dim)) * 2
    y = np.repeat(np.arange(n_ids), per_id)
    X = (centres[y] + rng.standard_normal((y.size, dim))).astype(np.float32)
    return DescriptorSet(X=X, labels=np.array([f"{prefix}{k}" for k in y]),
                         ids=np.array([f"{prefix}{k}/{prefix}{k}_{j:04d}.jpg" for j, k in enumerate(y)]),
                         provenance=Provenance(backbone=backbone))


def _split(tmp_path, ds=None, **kw):
    g, p = split_gallery_probes(_set() if ds is None else ds, seed=0, **kw)
    save_descriptors(g, tmp_path / "g.npz")
    save_descriptors(p, tmp_path / "p.npz")
    return g, p


def _run(capsys, *args):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _brute(gallery, probes, score_matrix, max_rank=20, fpirs=(1e-1, 1e-2)):
    """Figures from the full score matrix of probes x per-identity templates."""
    names = np.unique(gallery.labels)
    S = score_matrix(names)
    ranks, mates, non_top = [], [], []
    for i, label in enumerate(probes.labels):
        hit = names == label
        if hit.any():
            m = S[i, hit].max()
            ranks.append(1 + int((S[i, ~hit] >= m).sum()))
            mates.append(m)
        else:
            non_top.append(S[i].max())
    ranks, mates, non_top = np.array(ranks), np.array(mates), np.array(non_top)
    cmc = [float(np.mean(ranks <= r)) for r in range(1, min(max_rank, names.size) + 1)]
    fnir = {}
    for far in fpirs:
        best = 1.0
        for t in np.unique(np.r_[mates, non_top, np.inf]):
            if np.mean(non_top >= t) <= far:
                best = min(best, 1 - np.mean((ranks == 1) & (mates >= t)))
        fnir[far] = best
    return cmc, fnir, len(names)


def _cosine_templates(gallery, probes):
    def score_matrix(names):
        Xn = gallery.X / np.linalg.norm(gallery.X, axis=1, keepdims=True)
        T = np.stack([Xn[gallery.labels == n].mean(axis=0) for n in names])
        T /= np.linalg.norm(T, axis=1, keepdims=True)
        Q = probes.X / np.linalg.norm(probes.X, axis=1, keepdims=True)
        return Q.astype(np.float64) @ T.T.astype(np.float64)
    return score_matrix


def _check_report(report, cmc, fnir, n_templates, n_probes):
    assert report["n_probes"] == n_probes
    assert report["n_gallery_templates"] == n_templates
    np.testing.assert_allclose(report["cmc"], cmc, atol=1e-12)
    assert report["rank1"] == pytest.approx(cmc[0])
    for far, value in fnir.items():
        key = f"{far:.0e}".replace("e-0", "e-")
        assert report["fnir_at_fpir"][key] == pytest.approx(value, abs=1e-12), key


@pytest.mark.shared
def test_lfw_split_search_matches_numpy_brute_force(tmp_path, capsys, lfw_descriptors):
    gallery, probes = _split(tmp_path, lfw_descriptors)
    code, out, err = _run(capsys, "search", tmp_path / "g.npz", tmp_path / "p.npz", "--out", tmp_path / "s",
                          "--no-progress", "--flip", "sum")
    assert code == 0, err
    report = json.loads((tmp_path / "s" / "report.json").read_text())
    g, p = gallery.fused("sum"), probes.fused("sum")
    cmc, fnir, n_templates = _brute(g, p, _cosine_templates(g, p))
    _check_report(report, cmc, fnir, n_templates, len(probes))
    assert report["n_non_mated"] > 1000 and report["rank1"] > 0.9
    assert (tmp_path / "s" / "cmc.png").stat().st_size > 0 and (tmp_path / "s" / "det.png").stat().st_size > 0
    assert "rank-1 identification rate" in out
    # the same split in the LFW reference layout (paths/emb/emb_flip/labels/names), under other file names
    for ds, name in ((gallery, "lfw_gallery_ref.npz"), (probes, "lfw_probe_ref.npz")):
        names, codes = np.unique(ds.labels, return_inverse=True)
        np.savez(tmp_path / name, paths=ds.ids, emb=ds.X, emb_flip=ds.X_flip, labels=codes, names=names)
    code, _, err = _run(capsys, "search", tmp_path / "lfw_gallery_ref.npz", tmp_path / "lfw_probe_ref.npz", "--out",
                        tmp_path / "r", "--no-progress")
    assert code == 0, err
    again = json.loads((tmp_path / "r" / "report.json").read_text())
    assert again["cmc"] == report["cmc"] and again["fnir_at_fpir"] == report["fnir_at_fpir"]


@pytest.mark.shared
def test_lfw_search_with_a_fitted_plda_model(tmp_path, capsys, lfw_descriptors):
    """PLDA fitted on people outside gallery and probes; native multi-sample scores checked pair by pair."""
    ds = lfw_descriptors.fused("sum")
    people = np.unique(ds.labels)
    rng = np.random.default_rng(0)
    train_people = rng.choice(people, people.size // 2, replace=False)
    is_train = np.isin(ds.labels, train_people)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plda = make_metric("plda", n_iter=0).fit_descriptors(ds.subset(np.flatnonzero(is_train)))
    save_model(plda, tmp_path / "plda")
    gallery, probes = _split(tmp_path, ds.subset(np.flatnonzero(~is_train)))
    code, _, err = _run(capsys, "search", tmp_path / "g.npz", tmp_path / "p.npz", "--model", tmp_path / "plda",
                        "--out", tmp_path / "s", "--no-progress")
    assert code == 0, err
    report = json.loads((tmp_path / "s" / "report.json").read_text())
    assert report["config"]["set_scoring"] == "plda-native"

    from facemetric.templates.groups import Groups
    from facemetric.templates.plda_sets import PLDASetScorer

    scorer = PLDASetScorer(plda)

    def score_matrix(names):
        groups = Groups.by_label(gallery)
        assert list(groups.names) == list(names)
        return scorer.score_matrix(scorer.encode(probes.X), scorer.encode(gallery.X, groups))

    cmc, fnir, n_templates = _brute(gallery, probes, score_matrix)
    _check_report(report, cmc, fnir, n_templates, len(probes))


def test_search_writes_the_interface_fields(tmp_path, capsys):
    _split(tmp_path, non_mated_fraction=0.0)
    code, _, err = _run(capsys, "search", tmp_path / "g.npz", tmp_path / "p.npz", "--out", tmp_path / "s",
                        "--no-progress", "--no-plots", "--max-rank", "5", "--candidates", "3")
    assert code == 0, err
    report = json.loads((tmp_path / "s" / "report.json").read_text())
    assert {"rank1", "cmc", "n_probes", "n_gallery_templates"} <= set(report)
    assert "fnir_at_fpir" not in report and len(report["cmc"]) == 5  # closed set: every probe is mated
    lines = (tmp_path / "s" / "candidates.csv").read_text().splitlines()
    assert lines[0] == "probe,rank,template,subject,score,mate" and len(lines) == 1 + 3 * report["n_probes"]


def test_search_with_gallery_and_probe_template_files(tmp_path, capsys):
    _, p = _split(tmp_path)
    tmap = TemplateMap(p.ids, np.unique(p.labels, return_inverse=True)[1] + 1, np.arange(len(p)))
    write_face_tid_mid(tmap, tmp_path / "probe_face_tid_mid.txt")
    code, _, err = _run(capsys, "search", tmp_path / "g.npz", tmp_path / "p.npz", "--probe-templates",
                        tmp_path / "probe_face_tid_mid.txt", "--out", tmp_path / "s", "--no-progress", "--no-plots")
    assert code == 0, err
    report = json.loads((tmp_path / "s" / "report.json").read_text())
    assert report["n_probes"] == np.unique(p.labels).size  # one probe template per identity


def _one_line_error(code, err, *fragments):
    """Exit code 1 and exactly one ``error:`` line holding every fragment (the file it names, what to fix)."""
    assert code == 1, err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    text = lines[0]
    assert "Traceback" not in err and text.startswith("error:")
    for fragment in fragments:
        assert fragment in text, text


def test_bad_inputs_each_get_one_clear_error(tmp_path, capsys):
    _split(tmp_path)
    save_descriptors(_set(backbone="other"), tmp_path / "other.npz")
    code, _, err = _run(capsys, "search", tmp_path / "g.npz", tmp_path / "other.npz", "--out", tmp_path / "s")
    _one_line_error(code, err, "different pipelines", "g.npz", "other.npz", "backbone='bb'", "backbone='other'")

    empty = DescriptorSet(X=np.zeros((0, 8), np.float32), labels=np.array([], str), ids=np.array([], str))
    save_descriptors(empty, tmp_path / "empty.npz")
    code, _, err = _run(capsys, "search", tmp_path / "empty.npz", tmp_path / "p.npz", "--out", tmp_path / "s")
    _one_line_error(code, err, "empty.npz", "gallery is empty")

    write_face_tid_mid(TemplateMap(np.array(["nobody/x.jpg"]), np.array([1]), np.array([1])), tmp_path / "t.txt")
    code, _, err = _run(capsys, "search", tmp_path / "g.npz", tmp_path / "p.npz", "--probe-templates",
                        tmp_path / "t.txt", "--out", tmp_path / "s")
    _one_line_error(code, err, "t.txt", "nobody/x.jpg", "no descriptor")

    code, _, err = _run(capsys, "all-pairs", tmp_path / "g.npz", "--method", "lda", "--out", tmp_path / "a")
    _one_line_error(code, err, "--train")

    save_descriptors(_set(seed=9, prefix="T"), tmp_path / "train.npz")
    code, _, err = _run(capsys, "search", tmp_path / "g.npz", tmp_path / "p.npz", "--method", "k-reciprocal",
                        "--train", tmp_path / "train.npz", "--out", tmp_path / "s")
    _one_line_error(code, err, "transductive")


def test_templates_build_verify_and_a_template_with_no_images(tmp_path, capsys):
    ds = _set(n_ids=20, per_id=6)
    save_descriptors(ds, tmp_path / "d.npz")
    code, _, err = _run(capsys, "templates", "build", tmp_path / "d.npz", "--out", tmp_path / "t", "--name", "toy",
                        "--images-per-template", "2")
    assert code == 0, err
    tid_mid, pair_label = tmp_path / "t" / "toy_face_tid_mid.txt", tmp_path / "t" / "toy_template_pair_label.txt"
    code, out, err = _run(capsys, "templates", "verify", tmp_path / "d.npz", tid_mid, pair_label, "--out",
                          tmp_path / "v", "--n-bootstrap", "0", "--no-progress", "--no-plots")
    assert code == 0, err
    report = json.loads((tmp_path / "v" / "report.json").read_text())
    rows = np.loadtxt(tmp_path / "v" / "scores.csv", delimiter=",", skiprows=1)
    from sklearn.metrics import roc_auc_score

    assert report["auc"] == pytest.approx(roc_auc_score(rows[:, 2], rows[:, 3]))
    assert report["n_pairs"] == rows.shape[0] and "TAR@FAR" in out
    pair_label.write_text(pair_label.read_text() + "1 999 0\n")
    code, _, err = _run(capsys, "templates", "verify", tmp_path / "d.npz", tid_mid, pair_label, "--out",
                        tmp_path / "v", "--no-progress")
    _one_line_error(code, err, "template 999 has no images")
    code, _, err = _run(capsys, "templates", "build", tmp_path / "d.npz", "--out", tmp_path / "t7",
                        "--images-per-template", "7")
    _one_line_error(code, err, "d.npz", "no genuine template pair", "--images-per-template")
    code, _, err = _run(capsys, "templates", "split", tmp_path / "d.npz", "--gallery", tmp_path / "g.npz", "--probes",
                        tmp_path / "p.npz", "--non-mated-fraction", "2")
    _one_line_error(code, err, "non_mated_fraction")


def test_a_learned_method_without_train_is_fitted_on_the_gallery_and_says_so(tmp_path, capsys):
    g, p = _split(tmp_path, non_mated_fraction=0.0)
    code, _, err = _run(capsys, "search", tmp_path / "g.npz", tmp_path / "p.npz", "--method", "lda", "--out",
                        tmp_path / "s", "--no-progress", "--no-plots")
    assert code == 0, err
    report = json.loads((tmp_path / "s" / "report.json").read_text())
    assert any("fitted on the" in n and "never the probes" in n for n in report["notes"]), report["notes"]
    # the same figures as an LDA fitted by hand on the gallery alone and passed as a model
    save_model(make_metric("lda").fit_descriptors(g), tmp_path / "lda")
    code, _, err = _run(capsys, "search", tmp_path / "g.npz", tmp_path / "p.npz", "--model", tmp_path / "lda",
                        "--out", tmp_path / "m", "--no-progress", "--no-plots")
    assert code == 0, err
    by_hand = json.loads((tmp_path / "m" / "report.json").read_text())
    assert report["cmc"] == by_hand["cmc"] and report["n_probes"] == by_hand["n_probes"]


def test_all_pairs_cli_reports_exact_tar_at_far(tmp_path, capsys):
    ds = _set(n_ids=40, per_id=5, seed=3)
    save_descriptors(ds, tmp_path / "d.npz")
    code, out, err = _run(capsys, "all-pairs", tmp_path / "d.npz", "--out", tmp_path / "a", "--no-progress",
                          "--block", "128")
    assert code == 0, err
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    from facemetric.verify.curves import tar_at_far

    Z = ds.X / np.linalg.norm(ds.X, axis=1, keepdims=True)
    order = np.argsort(ds.labels, kind="stable")
    ia, ib = np.triu_indices(len(ds), 1)
    S = (Z[order] @ Z[order].T)[ia, ib]
    expected = tar_at_far((ds.labels[order][ia] == ds.labels[order][ib]).astype(int), S, (1e-1, 1e-2, 1e-3))
    assert report["n_pairs"] == ia.size and report["n_genuine"] == 40 * 10
    for far, value in expected.items():
        assert report["tar_at_far"][f"{far:.0e}".replace("e-0", "e-")] == pytest.approx(value, abs=1e-12)
    assert report["tar_at_far"]["1e-6"] is None  # 19,500 impostor pairs cannot measure 1e-6
    assert (tmp_path / "a" / "roc_det.png").stat().st_size > 0 and "TAR@FAR=1e-3" in out
    code, _, err = _run(capsys, "all-pairs", tmp_path / "d.npz", "--out", tmp_path / "b", "--no-progress",
                        "--no-curve")
    assert code == 0, err
    lean = json.loads((tmp_path / "b" / "report.json").read_text())
    assert lean["tar_at_far"] == report["tar_at_far"] and lean["auc"] is None
    save_descriptors(ds.subset(np.arange(1)), tmp_path / "one.npz")
    code, _, err = _run(capsys, "all-pairs", tmp_path / "one.npz", "--out", tmp_path / "c", "--no-progress")
    _one_line_error(code, err, "one.npz", "holds 1 image(s)")


@pytest.mark.parametrize("verb", [["search"], ["templates", "build"], ["templates", "split"], ["templates", "verify"],
                                  ["all-pairs"], ["export"]])
def test_new_verbs_have_help_with_an_example_and_docs(verb, capsys):
    from pathlib import Path

    assert main([*verb, "--help"]) == 0
    help_text = capsys.readouterr().out
    assert "Example" in help_text
    docs = "".join(p.read_text() for p in (Path(__file__).resolve().parents[2] / "docs").glob("*.md"))
    assert f"facemetric {' '.join(verb)} " in docs


@pytest.mark.slow
def test_search_on_a_local_dask_cluster_gives_the_same_report(tmp_path, capsys):
    pytest.importorskip("distributed")
    _split(tmp_path)
    args = ["search", tmp_path / "g.npz", tmp_path / "p.npz", "--no-progress", "--no-plots", "--candidates", "0"]
    assert _run(capsys, *args, "--out", tmp_path / "one")[0] == 0
    code, _, err = _run(capsys, *args, "--out", tmp_path / "dask", "--dask-workers", "2")
    assert code == 0, err
    one, dask = (json.loads((tmp_path / d / "report.json").read_text()) for d in ("one", "dask"))
    assert dask["config"]["engine"] == "dask.distributed"
    assert dask["cmc"] == one["cmc"] and dask["fnir_at_fpir"] == one["fnir_at_fpir"]


def test_ijb_1n_lists_give_the_subjects_of_unlabelled_descriptors(tmp_path, capsys):
    g, p = _split(tmp_path, non_mated_fraction=0.0)
    for ds, name in ((g, "gallery"), (p, "probe")):
        unlabelled = DescriptorSet(X=ds.X, labels=np.array([""] * len(ds)), ids=np.char.add("img/", np.char.replace(
            ds.ids, "/", "_")), provenance=ds.provenance)
        save_descriptors(unlabelled, tmp_path / f"{name}_unlabelled.npz")
        codes = np.unique(ds.labels, return_inverse=True)[1]
        rows = [f"{t + 1},{ds.labels[i]},{unlabelled.ids[i]}" for i, t in enumerate(codes)]
        (tmp_path / f"ijbc_1N_{name}.csv").write_text("TEMPLATE_ID,SUBJECT_ID,FILENAME\n" + "\n".join(rows) + "\n")
    code, _, err = _run(capsys, "search", tmp_path / "gallery_unlabelled.npz", tmp_path / "probe_unlabelled.npz",
                        "--gallery-templates", tmp_path / "ijbc_1N_gallery.csv", "--probe-templates",
                        tmp_path / "ijbc_1N_probe.csv", "--out", tmp_path / "s", "--no-progress", "--no-plots")
    assert code == 0, err
    templates = json.loads((tmp_path / "s" / "report.json").read_text())
    code, _, err = _run(capsys, "search", tmp_path / "g.npz", tmp_path / "p.npz", "--probe-templates",
                        tmp_path / "ijbc_1N_probe.csv", "--out", tmp_path / "l", "--no-progress", "--no-plots")
    assert code == 1 and "no descriptor" in err  # the 1:N list names img/... ids that g/p do not have
    assert templates["n_gallery_templates"] == np.unique(g.labels).size
    assert templates["n_probes"] == np.unique(p.labels).size and templates["n_non_mated"] == 0
