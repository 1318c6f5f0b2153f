"""The benchmark table reads at 80 and 120 columns: nothing cut, wider terminals show more, and it
says where the full table is. A one-fold protocol is benchmarked on drawn folds, with a note."""

from __future__ import annotations

import numpy as np
import pytest
from rich.console import Console

from facemetric.experiments.benchmark import run_benchmark
from facemetric.experiments.report import COLUMNS, benchmark_markdown, benchmark_table, row_cells, shown_columns
from facemetric.experiments.specs import parse_methods

from .conftest import make_descriptors, make_protocol


@pytest.fixture(scope="module")
def rows():
    ds = make_descriptors(n_ids=60, per_id=4)
    protocol = make_protocol(ds, n_folds=3, per_fold=20)
    specs = parse_methods('center,lda:n_components=8,k-reciprocal:metric="wccn",s-norm:metric="wccn"')
    return run_benchmark(specs, ds, protocol, n_bootstrap=30, seed=0).rows


def render(rows, width: int) -> list[str]:
    console = Console(width=width, record=True, color_system=None)
    console.print(benchmark_table(rows, title="toy: identity-disjoint kfold", width=width))
    return console.export_text().splitlines()


@pytest.mark.parametrize("width", [80, 120, 160])
def test_table_fits_and_cuts_nothing(rows, width):
    lines = render(rows, width)
    assert max(len(line.rstrip()) for line in lines) <= width
    text = "\n".join(lines)
    assert "…" not in text
    for row in rows:
        cells = row_cells(row)
        assert row["method"] in text.replace("\n", "")  # a long method name may fold, never be cut
        assert cells[1] in text and cells[3] in text  # AUC and accuracy, in full


def test_wider_terminals_show_more(rows):
    compact, wide, full = render(rows, 80), render(rows, 120), render(rows, 160)
    assert "AUC 95% CI" not in "\n".join(compact) and "AUC 95% CI" in "\n".join(wide)
    assert "fold AUC mean ± SE" in "\n".join(full)
    assert len(shown_columns(80)) < len(shown_columns(120)) < len(shown_columns(160)) == len(COLUMNS)
    assert "vs cos: change of 1-AUC against cosine" in " ".join(" ".join(compact).split())
    assert benchmark_markdown(rows).splitlines()[0] == "| " + " | ".join(COLUMNS) + " |"


def test_a_one_fold_protocol_is_benchmarked_on_drawn_folds():
    ds = make_descriptors(n_ids=60, per_id=4)
    protocol = make_protocol(ds, n_folds=3, per_fold=20)
    one = type(protocol)(images=protocol.images, pairs=protocol.pairs, labels=protocol.labels,
                         folds=np.zeros(len(protocol), np.int32), name="pairs.txt")
    run = run_benchmark(parse_methods("center"), ds, one, n_bootstrap=0, seed=3)
    assert all(r["n_folds"] == 10 for r in run.rows)
    assert run.notes and "pairs.txt has a single fold" in run.notes[0] and "seed 3" in run.notes[0]
