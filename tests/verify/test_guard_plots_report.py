"""Protocol guard, Display classes / PNGs and the JSON report."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from facemetric.types import PairProtocol
from facemetric.verify import ProtocolWarning, check_protocol, evaluate_scores
from facemetric.verify.guard import identities_from_paths
from facemetric.verify.report import build_report, report_table, write_report


def protocol(folds):
    a = ["A/A_1.jpg", "B/B_1.jpg", "C/C_1.jpg", "D/D_1.jpg"]
    b = ["A/A_2.jpg", "C/C_2.jpg", "C/C_3.jpg", "A/A_3.jpg"]
    return PairProtocol.from_id_pairs(a, b, labels=[1, 0, 1, 0], folds=folds, name="toy")


def test_guard_is_silent_on_a_clean_protocol(recwarn):
    p = protocol([0, 1, 1, 0])
    msgs = check_protocol(p, identities_from_paths(p.images), train_identities=["X", "Y"])
    assert msgs == []
    assert not [w for w in recwarn if issubclass(w.category, ProtocolWarning)]


def test_guard_warns_on_shared_identities_between_folds():
    p = protocol([0, 1, 1, 2])  # A appears in folds 0 and 2
    with pytest.warns(ProtocolWarning, match="1 identities appear in more than one fold.*'A'"):
        msgs = check_protocol(p, identities_from_paths(p.images))
    assert len(msgs) == 1


def test_guard_warns_on_training_identities_in_test_pairs():
    p = protocol(None)
    with pytest.warns(ProtocolWarning, match="2 of 4 test identities were also used for training"):
        check_protocol(p, identities_from_paths(p.images), train_identities=["C", "D", "Z"])


def test_guard_reports_wrong_identities_instead_of_false_leaks():
    p = protocol([0, 1, 1, 2])
    collapsed = np.array(["Data"] * len(p.images), dtype=np.str_)  # every image labelled with the top folder
    with pytest.warns(ProtocolWarning) as caught:
        msgs = check_protocol(p, collapsed, train_identities=np.array(["Data"], dtype=np.str_))
    assert len(msgs) == 1 and len(caught) == 1
    assert "the identities do not fit the labels: 2 different-person pairs join two images of one identity" in msgs[0]
    assert "'Data'" in msgs[0] and "np.str_" not in msgs[0] and "more than one fold" not in msgs[0]
    # real leaks name plain strings too
    msgs = check_protocol(p, identities_from_paths(p.images), train_identities=np.array(["A"], dtype=np.str_),
                          warn=False)
    assert msgs and all("np.str_" not in m for m in msgs) and "(e.g. 'A')" in msgs[0]


def test_guard_on_real_lfw_folds_is_clean(lfw_dir):
    from facemetric.io import load_protocol

    p = load_protocol(lfw_dir / "pairs.txt")
    assert check_protocol(p, identities_from_paths(p.images), warn=False) == []
    dev_train = load_protocol(lfw_dir / "pairsDevTrain.txt")
    dev_test = load_protocol(lfw_dir / "pairsDevTest.txt")
    train_ids = identities_from_paths(dev_train.images)
    # View 1 train and test are identity-disjoint by design
    assert (
        check_protocol(
            dev_test, identities_from_paths(dev_test.images), train_identities=train_ids, warn=False
        )
        == []
    )
    # View 2 overlaps View 1 train (they are different views of the same people)
    assert check_protocol(p, identities_from_paths(p.images), train_identities=train_ids, warn=False)


def test_plots_write_pngs_and_import_matplotlib_lazily(tmp_path):
    code = (
        "import sys, facemetric.verify, facemetric.verify.plots, facemetric.experiments.evaluate\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported at module import time'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    from facemetric.verify.plots import DetDisplay, RocDisplay, save_det, save_roc, save_roc_det

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    s = rng.normal(y, 1.0)
    curves = {"a": (y, s), "b": (y, s + rng.normal(0, 1, 500))}
    for fn, name in ((save_roc, "roc.png"), (save_det, "det.png"), (save_roc_det, "both.png")):
        path = fn(curves, tmp_path / name)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    roc = RocDisplay.from_scores(y, s, "a").plot()
    assert roc.ax_.get_xscale() == "log" and "AUC" in roc.ax_.get_legend().get_texts()[0].get_text()
    det = DetDisplay.from_scores(y, s, "a").plot()
    assert len(det.ax_.lines) == 1


def test_plot_titles_name_method_protocol_and_pairs(tmp_path):
    from facemetric.verify.plots import plot_title, save_det

    assert plot_title("cosine", "pairs.txt", 6000, "ROC") == "ROC: cosine on pairs.txt (6000 pairs)"
    assert plot_title(["a", "b"], "cp.csv", 10, "DET") == "DET: 2 methods on cp.csv (10 pairs)"
    y = np.r_[np.ones(50, int), np.zeros(50, int)]
    save_det({"a": (y, y + 0.0)}, tmp_path / "d.png", protocol="p.csv")
    assert (tmp_path / "d.png").stat().st_size > 0


def test_det_axes_of_a_near_perfect_run_are_readable():
    """Zero error rates sit at the smallest measurable rate, inside the axes, with several ticks."""
    from scipy.stats import norm

    from facemetric.verify.plots import DetDisplay

    rng = np.random.default_rng(0)
    y = np.r_[np.ones(3000, int), np.zeros(3000, int)]
    s = np.r_[rng.normal(3.2, 0.5, 3000), rng.normal(0, 0.5, 3000)]  # a few errors at most
    det = DetDisplay.from_scores(y, s, "near-perfect").plot()
    ax = det.ax_
    x, fnr = ax.lines[0].get_data()
    lo_x, hi_x = ax.get_xlim()
    lo_y, hi_y = ax.get_ylim()
    assert x.size > 2 and (x >= lo_x).all() and (fnr >= lo_y).all()  # the curve is on the plot
    assert norm.cdf(lo_y) <= 1 / 3000 and norm.cdf(hi_y) >= 0.5
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) >= 4 and "0.1%" in labels and "50%" in labels
    perfect = DetDisplay.from_scores(y, np.where(y == 1, 10.0, 0.0) + rng.normal(0, 0.1, 6000)).plot()
    assert perfect.ax_.lines[0].get_data()[0].size >= 2  # drawn along the edges, not an empty plot


def test_report_json_and_table(tmp_path):
    rng = np.random.default_rng(1)
    y = np.r_[np.ones(100, int), np.zeros(100, int)]
    s = rng.normal(y * 2, 1)
    res = evaluate_scores(y, s, np.arange(200) % 4, n_bootstrap=20, seed=5)
    rep = build_report(
        res, scores=s, labels=y, pair_ids=np.arange(200).astype(str), config={"method": "x"}, warnings=["w"]
    )
    path = write_report(rep, tmp_path / "r" / "report.json")
    back = json.loads(path.read_text())
    assert back["auc"] == pytest.approx(res.auc) and back["seed"] == 5 and back["config"] == {"method": "x"}
    assert back["pairs"]["score"] == pytest.approx(s.tolist()) and len(back["pairs"]["label"]) == 200
    assert back["versions"]["numpy"] == np.__version__ and back["warnings"] == ["w"]
    assert back["tar_at_far"]["1e-3"] is None  # 100 negatives cannot measure FAR 1e-3
    from rich.console import Console

    console = Console(record=True, width=120)
    console.print(report_table(back))
    text = console.export_text()
    assert "ROC-AUC" in text and "TAR@FAR=1e-2" in text and f"{res.auc:.4f}" in text


def test_thin_keeps_ends_and_bounds_size():
    from facemetric.verify.plots import thin

    fpr = np.linspace(0, 1, 100_001)
    tpr = np.sqrt(fpr)
    f, t = thin(fpr, tpr, max_points=500)
    assert f.size <= 501 and f[0] == 0 and f[-1] == 1
    np.testing.assert_allclose(t, np.sqrt(f))
    assert thin(fpr[:10], tpr[:10])[0].size == 10


def test_table_prints_mean_and_standard_error_and_json_keeps_both():
    rng = np.random.default_rng(2)
    y = np.r_[np.ones(300, int), np.zeros(300, int)]
    s = rng.normal(y * 2, 1)
    folds = np.arange(600) % 10
    res = evaluate_scores(y, s, folds, n_bootstrap=20, seed=0)
    rep = build_report(res)
    per_fold = np.array(rep["accuracy_per_fold"])
    assert rep["accuracy_std"] == pytest.approx(per_fold.std())  # population std, as before
    assert rep["accuracy_se"] == pytest.approx(per_fold.std(ddof=1) / np.sqrt(10))
    from rich.console import Console

    console = Console(record=True, width=80)
    console.print(report_table(rep))
    text = console.export_text()
    assert f"± {100 * rep['accuracy_se']:.2f} SE" in text
    assert "95% CI: 20 replicates resampling 600 pairs" in " ".join(text.split())
    assert max(len(line) for line in text.splitlines()) <= 80


def test_p_values_at_the_bootstrap_floor():
    from facemetric.verify.report import format_p_value

    assert format_p_value(1 / 1001, 1 / 1001) == "< 0.001"
    assert format_p_value(1 / 201, 1 / 201) == "< 0.005"
    assert format_p_value(1 / 101, 1 / 101) == "< 0.01"
    assert format_p_value(0.0123, 1 / 1001) == "0.012"
    assert format_p_value(None) == "-"
    from facemetric.verify import paired_test

    rng = np.random.default_rng(3)
    y = np.r_[np.ones(500, int), np.zeros(500, int)]
    strong = rng.normal(3 * y, 1)
    weak = strong + rng.normal(0, 3, 1000)
    t = paired_test(y, strong, weak, n_bootstrap=999, seed=0)
    assert t.at_floor and t.p_value == pytest.approx(1 / 1000)
    assert format_p_value(t.p_value, t.p_value_floor) == "< 0.001"
    assert t.to_dict()["p_value_floor"] == pytest.approx(1 / 1000)
