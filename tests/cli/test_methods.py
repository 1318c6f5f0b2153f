"""`facemetric methods`: every registered method, grouped by family, with its real defaults."""

from __future__ import annotations

import json

import pytest

from facemetric.cli.main import main
from facemetric.metrics import METHODS
from facemetric.metrics.catalog import FAMILIES, method_catalog


def run(capsys, *argv):
    code = main(list(argv))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_json_lists_every_method_once_with_its_defaults(capsys):
    code, out, err = run(capsys, "methods", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert list(data) == [f for f in FAMILIES if f in data]  # the documented order
    names = [m["name"] for infos in data.values() for m in infos]
    assert sorted(names) == sorted(METHODS) and len(names) == len(set(names))
    for family, infos in data.items():
        for m in infos:
            cls = METHODS[m["name"]]
            assert cls.family == family
            defaults = cls().get_params(deep=False)
            assert set(m["params"]) == set(defaults)
            for key, value in defaults.items():
                assert m["params"][key] == (list(value) if isinstance(value, tuple) else value)


def test_families_hold_the_expected_methods():
    groups = {family: {i.name for i in infos} for family, infos in method_catalog().items()}
    assert groups["baselines"] == {"cosine", "l2"}
    assert {"center", "lda", "wccn", "lda-wccn", "pca-whiten"} <= groups["projections"]
    assert groups["probabilistic"] >= {"joint-bayes", "plda"}
    assert {"z-norm", "t-norm", "s-norm", "as-norm"} <= groups["normalisation"]
    assert groups["transductive"] == {n for n, c in METHODS.items() if c.transductive}
    assert groups["neural"] == {"neural-linear", "neural-mlp", "neural-pose"}


def test_text_fits_80_columns_and_names_every_method(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run(capsys, "methods")
    assert code == 0
    assert max(len(line.rstrip()) for line in out.splitlines()) <= 80
    for family in method_catalog():
        assert any(line.startswith(f"{family}:") for line in out.splitlines())
    words = set(out.split())
    assert set(METHODS) <= words
    assert "log N([x1; x2]; same)" in " ".join(out.split())  # no markup eaten


def test_one_method_in_full(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run(capsys, "methods", "plda")
    assert code == 0
    assert out.startswith("plda (probabilistic)")
    assert "n_iter : int, default 10" in out  # the parameters documented on the shared base class
    assert "tol=1e-06" in out


@pytest.mark.parametrize("verb", [["evaluate"], ["fit"], ["benchmark"]])
def test_help_points_to_the_methods_command(capsys, verb):
    code, out, _ = run(capsys, *verb, "--help")
    assert code == 0 and "facemetric methods" in " ".join(out.split())


def test_unknown_method(capsys):
    code, _, err = run(capsys, "methods", "magic")
    assert code == 1 and err.startswith("error: unknown method 'magic'") and "facemetric methods" in err
