"""`facemetric methods`: the metrics by family, with their parameters and defaults."""

from __future__ import annotations

import json
from typing import Optional

import typer

from facemetric.cli.common import out


def methods(
    name: Optional[str] = typer.Argument(None, help="Show this method in full: its description and "
                                         "every parameter."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """List every scoring method by family (baselines, projections, probabilistic, normalisation,
    transductive, neural) with its parameters and their defaults.

    The names go to `--method` of evaluate, fit and score, and to `--methods` of benchmark;
    a parameter is set with `--param key=value` (fit) or `name:key=value` (benchmark).

    Examples:

    - `facemetric methods`
    - `facemetric methods plda`
    - `facemetric fit train.npz --method lda --param n_components=128 --out models/lda`
    """
    from facemetric.metrics.catalog import FAMILIES, method_catalog, method_info

    if name is not None:
        info = method_info(name)
        if as_json:
            out.print_json(json.dumps({**info.to_dict(), "doc": info.doc}))
            return
        out.print(f"[bold]{info.name}[/bold] ({info.family}{', transductive' if info.transductive else ''})",
                  highlight=False)
        from rich.padding import Padding
        from rich.text import Text

        for indent, text in _reflow(info.doc):
            out.print(Padding(Text(text), (0, 0, 0, indent), expand=False))
        out.print(f"\nparameters (defaults): {info.params_text() or '(none)'}", markup=False, highlight=False)
        return
    catalog = method_catalog()
    if as_json:
        out.print_json(json.dumps({family: [i.to_dict() for i in infos] for family, infos in catalog.items()}))
        return
    from rich.markup import escape
    from rich.table import Table

    for family, infos in catalog.items():
        out.print(f"[bold]{family}[/bold]: {FAMILIES.get(family, '')}", highlight=False)
        table = Table(show_header=False, box=None, padding=(0, 1, 0, 2))
        table.add_column("method", style="cyan", no_wrap=True)
        table.add_column("description")
        for info in infos:
            params = f"\n[dim]{escape(info.params_text())}[/dim]" if info.params else ""
            table.add_row(info.name, escape(info.summary) + params)
        out.print(table, highlight=False)
        out.print()
    out.print("Details: facemetric methods NAME, and docs/metrics.md.", highlight=False)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _reflow(doc: str) -> list[tuple[int, str]]:
    """The docstring as (indent, text) lines, with hard-wrapped lines joined so that the terminal wraps
    them; section headers (``Parameters`` over ``----``), list items and new indents start new lines."""
    lines: list[tuple[int, str]] = []
    raw = doc.splitlines()
    for i, line in enumerate(raw):
        text, indent = line.strip(), _indent(line)
        underline = i + 1 < len(raw) and set(raw[i + 1].strip()) <= set("-=") and raw[i + 1].strip() != ""
        joinable = (lines and lines[-1][1] and text and lines[-1][0] == indent and not underline
                    and not set(text) <= set("-=") and not set(lines[-1][1]) <= set("-=")
                    and not text.startswith(("- ", "* ")))
        if joinable:
            lines[-1] = (indent, lines[-1][1] + " " + text)
        else:
            lines.append((indent, text))
    return lines


def register(app: typer.Typer) -> None:
    """Add the `methods` command to ``app``."""
    app.command("methods")(methods)
