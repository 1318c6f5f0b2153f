"""Benchmark rows as a rich table (terminal) and a Markdown table (docs)."""

from __future__ import annotations

import math
from typing import Any

COLUMNS = ("method", "AUC", "AUC 95% CI", "accuracy", "TAR@FAR=1e-3", "1-AUC vs cosine", "p vs cosine",
           "fold AUC mean ± std", "transductive", "fit s")


def format_change(pct: float | None) -> str:
    """``-12.3%`` (fewer errors than cosine) or ``-`` when undefined."""
    if pct is None or not math.isfinite(pct):
        return "-"
    return f"{pct:+.1f}%"


def _num(x: Any, digits: int = 4) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def row_cells(row: dict[str, Any]) -> list[str]:
    if row.get("error"):
        return [row["method"], "failed", row["error"][:60], "", "", "", "", "", "yes" if row.get("transductive") else "no",
                ""]
    ci = row.get("auc_ci")
    ci_text = f"[{ci[0]:.4f}, {ci[1]:.4f}]" if ci and None not in ci else "-"
    fold = "-" if row.get("fold_auc_mean") is None else f"{row['fold_auc_mean']:.4f} ± {row['fold_auc_std']:.4f}"
    p = row.get("p_value_vs_cosine")
    return [
        row["method"], _num(row["auc"]), ci_text, _num(row["accuracy"]), _num(row.get("tar_at_far_1e-3")),
        format_change(row.get("one_minus_auc_change_pct")), "-" if p is None else f"{p:.3f}", fold,
        "yes" if row.get("transductive") else "no", f"{row.get('fit_seconds', 0.0):.1f}",
    ]


def benchmark_table(rows: list[dict[str, Any]], title: str = "benchmark"):
    """A rich Table; rows sorted as given."""
    from rich.table import Table

    table = Table(title=title)
    for col in COLUMNS:
        table.add_column(col, justify="left" if col == "method" else "right")
    for row in rows:
        table.add_row(*row_cells(row))
    return table


def benchmark_markdown(rows: list[dict[str, Any]]) -> str:
    """The same table in Markdown."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in row_cells(row)) + " |")
    return "\n".join(lines) + "\n"
