"""The docs say what the code is: generated benchmark tables match their JSON, the layout lists every unit."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def docs_tables():
    spec = importlib.util.spec_from_file_location("docs_tables", ROOT / "benchmarks" / "docs_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_tables_are_generated_from_their_json():
    render = docs_tables().render
    text = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    sources = re.findall(r"<!-- table from (\S+) -->", text)
    assert sources, "docs/benchmarks.md has no generated table"
    assert render(text) == text, "run: .venv/bin/python benchmarks/docs_tables.py"


def test_a_hand_edit_of_a_generated_table_is_caught(tmp_path):
    render = docs_tables().render
    rows = [{"method": "cosine", "name": "cosine", "auc": 0.99, "accuracy": 0.98, "auc_ci": [0.98, 0.995]}]
    (tmp_path / "b.json").write_text(json.dumps(rows))
    fresh = render("<!-- table from b.json -->\n<!-- end of table -->\n", tmp_path)
    assert "| cosine | 0.9900 | [0.9800, 0.9950] | 0.9800 |" in fresh
    assert render(fresh, tmp_path) == fresh
    assert render(fresh.replace("0.9900", "0.9910"), tmp_path) == fresh


def test_a_named_table_of_a_benchmark_script_is_rendered_and_checked(tmp_path):
    render = docs_tables().render
    data = {"tables": {"speed": {"columns": ["setting", "CPU x ref"], "rows": [["a|b", "0.25"]],
                                 "notes": ["One note."]}}}
    (tmp_path / "d.json").write_text(json.dumps(data))
    fresh = render("<!-- table from d.json#speed -->\nstale\n<!-- end of table -->\n", tmp_path)
    assert fresh == ("<!-- table from d.json#speed -->\n| setting | CPU x ref |\n|---|---|\n| a\\|b | 0.25 |\n\n"
                     "One note.\n<!-- end of table -->\n")
    assert render(fresh, tmp_path) == fresh


def test_the_readme_layout_lists_every_top_level_module():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme.split("```\nsrc/facemetric/\n", 1)[1].split("```", 1)[0]
    src = ROOT / "src" / "facemetric"
    units = sorted(p.name for p in src.iterdir() if p.is_dir() and (p / "__init__.py").exists())
    units += sorted(p.name for p in src.glob("*.py") if p.name != "__init__.py")
    missing = [u for u in units if not re.search(rf"(^|\s){re.escape(u.removesuffix('.py'))}(\.py|/)", layout)]
    assert missing == []


def test_detector_defaults_are_the_measured_choice():
    """The defaults of scrfd and yunet are what the rule of docs/benchmarks.md picked from the JSON."""
    from facemetric.detect.base import DEFAULT_POLICY
    from facemetric.detect.canvas import DEFAULT_MAX_SIDE, DEFAULT_PAD

    chosen = json.loads((ROOT / "docs" / "data" / "detectors.json").read_text(encoding="utf-8"))["chosen"]
    assert set(chosen) == {"scrfd", "yunet"}
    for kind, c in chosen.items():
        assert c["canvas"] == f"max{DEFAULT_MAX_SIDE[kind]}" and c["pad"] == DEFAULT_PAD[kind], kind
    assert chosen["scrfd"]["policy"] == DEFAULT_POLICY


def test_the_detector_rule_reproduces_the_chosen_defaults():
    spec = importlib.util.spec_from_file_location("bench_detect", ROOT / "benchmarks" / "bench_detect.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    data = json.loads((ROOT / "docs" / "data" / "detectors.json").read_text(encoding="utf-8"))
    assert module.choose_defaults(data) == data["chosen"]
    assert module.tables(data) == data["tables"]
