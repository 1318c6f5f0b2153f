"""The evaluation report: a JSON document and the same figures as a rich table."""

from __future__ import annotations

import json
import math
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from facemetric.io.atomic import write_text_atomic
from facemetric.io.jsonable import jsonable
from facemetric.verify.evaluation import VerificationResult

VERSIONED_PACKAGES = ("facemetric", "numpy", "scipy", "scikit-learn", "matplotlib")


def package_versions(extra: tuple[str, ...] = ()) -> dict[str, str | None]:
    """Installed versions of the packages that shape the figures (None if absent)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES + extra:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def build_report(
    result: VerificationResult,
    *,
    scores: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    pair_ids: np.ndarray | None = None,
    a: np.ndarray | None = None,
    b: np.ndarray | None = None,
    folds: np.ndarray | None = None,
    config: dict[str, Any] | None = None,
    warnings: list[str] | None = None,
) -> dict[str, Any]:
    """Metrics and CIs at the top level, plus ``pairs`` (per-pair scores), ``config``, ``versions``."""
    report = result.to_dict()
    if scores is not None:
        pairs: dict[str, Any] = {"score": np.asarray(scores, dtype=np.float64)}
        for key, val in (("pair_id", pair_ids), ("a", a), ("b", b), ("label", labels), ("fold", folds)):
            if val is not None:
                pairs[key] = np.asarray(val)
        report["pairs"] = pairs
    report["config"] = dict(config or {})
    report["warnings"] = list(warnings or [])
    report["versions"] = package_versions()
    return jsonable(report)


def write_report(report: dict[str, Any], path: str | Path) -> Path:
    """Write the report as strict JSON, atomically."""
    path = Path(path)
    write_text_atomic(path, json.dumps(jsonable(report), indent=1, allow_nan=False) + "\n")
    return path


def _fmt(value: float | None, ci: Any = None, pct: bool = False) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    scale = 100.0 if pct else 1.0
    text = f"{value * scale:.2f}%" if pct else f"{value:.4f}"
    if ci and ci[0] is not None and ci[1] is not None:
        text += f"  [{ci[0] * scale:.2f}, {ci[1] * scale:.2f}]" if pct else f"  [{ci[0]:.4f}, {ci[1]:.4f}]"
    return text


def format_p_value(p: float | None, floor: float | None = None) -> str:
    """A bootstrap p-value for a table: "< 0.001" at the floor ``1 / (B + 1)`` of B replicates
    (the bound rounded up to one significant digit), else three decimals."""
    if p is None or not math.isfinite(p):
        return "-"
    if floor is not None and floor > 0 and p <= floor * (1.0 + 1e-9):
        exponent = math.floor(math.log10(floor))
        bound = math.ceil(floor / 10.0**exponent - 1e-9) * 10.0**exponent
        return f"< {bound:.{max(0, -math.floor(math.log10(bound) + 1e-12))}f}"
    return f"{p:.3f}"


RESAMPLED = {"identity": "identities", "fold": "folds", "pair": "pairs"}


def report_table(report: dict[str, Any], title: str = "verification"):
    """A rich Table of the headline figures (with CIs when present); k-fold accuracy reads
    mean ± standard error over the folds."""
    from rich.table import Table

    cis = report.get("cis", {})
    conf = round(100 * report.get("confidence", 0.95))
    caption = None
    if cis and report.get("resample"):
        what = RESAMPLED.get(report["resample"], report["resample"])
        caption = f"{conf}% CI: {report.get('n_bootstrap')} replicates resampling {report.get('n_resample_units')} {what}"
    table = Table(title=f"{title}  ({report['n_pairs']} pairs)", caption=caption)
    table.add_column("metric")
    table.add_column(f"value  [{conf}% CI]" if cis else "value", justify="right")
    table.add_row("ROC-AUC", _fmt(report["auc"], cis.get("auc")))
    acc = _fmt(report["accuracy"], cis.get("accuracy"), pct=True)
    se = report.get("accuracy_se")
    spread = "" if se is None else f"  ± {100 * se:.2f} SE"
    table.add_row(f"accuracy ({report['n_folds']}-fold)", f"{acc}{spread}")
    table.add_row("EER", _fmt(report["eer"], cis.get("eer"), pct=True))
    for key, val in report["tar_at_far"].items():
        table.add_row(f"TAR@FAR={key}", _fmt(val, cis.get("tar_at_far", {}).get(key), pct=True))
    missing = report.get("missing")
    if missing and missing.get("n_images"):
        what = {"reject": "rejected", "drop": "left out"}.get(missing["policy"], missing["policy"])
        table.add_row("no descriptor", f"{missing['n_pairs']} pairs {what}, FTE {100 * missing['fte_rate']:.2f}%")
    return table
