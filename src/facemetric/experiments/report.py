"""Benchmark rows as a rich table (terminal) and a Markdown table (benchmark.md, docs/benchmarks.md).

Methods that need a word of context get a numbered note under the table (:data:`METHOD_NOTES`).
"""

from __future__ import annotations

import math
from typing import Any

from facemetric.verify.report import format_p_value

COLUMNS = ("method", "AUC", "AUC 95% CI", "accuracy", "TAR@FAR=1e-3", "1-AUC vs cosine", "p vs cosine",
           "fold AUC mean ± SE", "transductive", "fit s")


# joint-bayes and plda share TwoCovarianceMetric: one model, one EM fit; see docs/metrics.md
METHOD_NOTES = {
    "joint-bayes": "joint-bayes and plda are the same two-covariance model (x = identity + within-identity "
                   "variation, both Gaussian) fitted by the same EM, with different offsets: joint-bayes "
                   "fixes the model mean at the training mean and scores twice the log-likelihood ratio "
                   "less its constant; plda learns the mean and scores the log-likelihood ratio itself.",
}
METHOD_NOTES["plda"] = METHOD_NOTES["joint-bayes"]


def notes_for(rows: list[dict[str, Any]]) -> tuple[dict[str, int], list[str]]:
    """(method label -> note number, the notes in order) for the rows that have one."""
    numbers: dict[str, int] = {}
    notes: list[str] = []
    for row in rows:
        note = METHOD_NOTES.get(row.get("name", row["method"]))
        if note is None:
            continue
        if note not in notes:
            notes.append(note)
        numbers[row["method"]] = notes.index(note) + 1
    return numbers, notes


def format_change(pct: float | None) -> str:
    """``-12.3%`` (fewer errors than cosine) or ``-`` when undefined."""
    if pct is None or not math.isfinite(pct):
        return "-"
    return f"{pct:+.1f}%"


def _num(x: Any, digits: int = 4) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def fold_auc_se(row: dict[str, Any]) -> float:
    """Standard error of the mean per-fold AUC (rows written before it was stored: from the std)."""
    if row.get("fold_auc_se") is not None:
        return float(row["fold_auc_se"])
    return float(row["fold_auc_std"]) / math.sqrt(max(1, len(row.get("fold_auc") or [1])))


def row_cells(row: dict[str, Any]) -> list[str]:
    if row.get("error"):
        return [row["method"], "failed", row["error"][:60], "", "", "", "", "", "yes" if row.get("transductive") else "no",
                ""]
    ci = row.get("auc_ci")
    ci_text = f"[{ci[0]:.4f}, {ci[1]:.4f}]" if ci and None not in ci else "-"
    fold = "-" if row.get("fold_auc_mean") is None else f"{row['fold_auc_mean']:.4f} ± {fold_auc_se(row):.4f}"
    p = row.get("p_value_vs_cosine")
    return [
        row["method"], _num(row["auc"]), ci_text, _num(row["accuracy"]), _num(row.get("tar_at_far_1e-3")),
        format_change(row.get("one_minus_auc_change_pct")), format_p_value(p, row.get("p_value_floor_vs_cosine")), fold,
        "yes" if row.get("transductive") else "no", f"{row.get('fit_seconds', 0.0):.1f}",
    ]


#: The terminal width from which a column is shown (benchmark.md always has all of them): the
#: compact table reads at 80 columns, 120 adds the interval and the p-value, 160 everything.
MIN_WIDTH = {"AUC 95% CI": 120, "p vs cosine": 120, "fold AUC mean ± SE": 160, "fit s": 160}
#: Shorter headers below 160 columns (the caption explains them).
SHORT = {"accuracy": "acc.", "TAR@FAR=1e-3": "TAR@1e-3", "1-AUC vs cosine": "vs cos", "p vs cosine": "p",
         "transductive": "trans."}
FULL_WIDTH = 160


def shown_columns(width: int) -> list[str]:
    """The columns of the table on a terminal ``width`` columns wide."""
    return [col for col in COLUMNS if MIN_WIDTH.get(col, 0) <= width]


def benchmark_table(rows: list[dict[str, Any]], title: str = "benchmark", width: int = 80):
    """A rich Table that fits ``width`` columns: the compact columns at 80, more from 120 and 160;
    rows in the order given. The caption holds the method notes and, below 160 columns, explains
    the short headers."""
    from rich import box
    from rich.table import Table

    numbers, notes = notes_for(rows)
    shown = [COLUMNS.index(col) for col in shown_columns(width)]
    short = width < FULL_WIDTH
    caption = [f"({k}) {note}" for k, note in enumerate(notes, start=1)]
    if short:
        caption.append("vs cos: change of 1-AUC against cosine (k-fold: the mean of the folds' changes; negative: "
                       "fewer errors); trans.: looks at the test descriptors"
                       + ("; p: paired p-value against cosine (k-fold: sign-flip test over the folds)"
                          if width >= 120 else ""))
    table = Table(title=title, box=box.SIMPLE_HEAD, caption="\n".join(caption) or None, caption_justify="left",
                  pad_edge=False)
    for i in shown:
        col = COLUMNS[i]
        header = SHORT.get(col, col) if short else col
        if col == "method":
            table.add_column(header, justify="left", overflow="fold")
        else:
            table.add_column(header, justify="right", no_wrap=True)
    for row in rows:
        cells = row_cells(row)
        if row["method"] in numbers:
            cells[0] += f" ({numbers[row['method']]})"
        table.add_row(*(cells[i] for i in shown))
    return table


def benchmark_markdown(rows: list[dict[str, Any]]) -> str:
    """The same table in Markdown, the notes as numbered lines under it."""
    numbers, notes = notes_for(rows)
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        cells = row_cells(row)
        if row["method"] in numbers:
            cells[0] += f" ({numbers[row['method']]})"
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    if notes:
        lines.append("")
        lines += [f"({k}) {note}" for k, note in enumerate(notes, start=1)]
    return "\n".join(lines) + "\n"
