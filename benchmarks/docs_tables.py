"""Regenerate the benchmark tables of the docs from the runs' benchmark.json, so they cannot drift.

A table in a Markdown file is delimited by two comments naming its source::

    <!-- table from docs/data/lfw-view2.benchmark.json -->
    | method | AUC | ...                      (generated: do not edit by hand)
    <!-- end of table -->

The rows of a ``benchmark.json`` (a list of method rows) are rendered by
``facemetric.experiments.report.benchmark_markdown``, the function that writes each run's own
``benchmark.md``; a JSON named after a script of ``benchmarks/``
(``benchmarks/results/bench_search.json``) is rendered by that script's ``markdown`` function.
Other benchmark scripts store ready tables in their JSON, under
``"tables": {name: {"columns": [...], "rows": [[...]], "notes": [...]}}``; a source
``FILE.json#name`` picks one (``benchmarks/bench_detect.py`` writes them so). Paths are
relative to the repository root.

    .venv/bin/python benchmarks/docs_tables.py            # rewrite the tables in docs/*.md
    .venv/bin/python benchmarks/docs_tables.py --check    # exit 1 if a table differs from its JSON
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
from pathlib import Path

from facemetric.experiments.report import benchmark_markdown

ROOT = Path(__file__).resolve().parents[1]
TABLE = re.compile(r"(<!-- table from (?P<source>\S+) -->\n)(?P<body>.*?)(<!-- end of table -->)", re.S)


def renderer(source: str):
    """The ``markdown`` function of the benchmark script the JSON is named after, else the method table."""
    script = ROOT / "benchmarks" / f"{Path(source).stem}.py"
    if not script.is_file():
        return benchmark_markdown
    spec = importlib.util.spec_from_file_location(script.stem, script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return lambda result: module.markdown(result) + "\n"


def render(text: str, root: Path = ROOT) -> str:
    """``text`` with every delimited table regenerated from its source JSON."""
    def table(match: re.Match) -> str:
        source, _, name = match["source"].partition("#")
        data = json.loads((root / source).read_text(encoding="utf-8"))
        body = generic_markdown(data["tables"][name]) if name else renderer(source)(data)
        return match.group(1) + body + match.group(4)

    return TABLE.sub(table, text)


def generic_markdown(table: dict) -> str:
    """A ``{"columns", "rows", "notes"}`` table in Markdown, the notes as lines under it."""
    def line(cells) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    lines = [line(table["columns"]), "|" + "---|" * len(table["columns"])]
    lines += [line(row) for row in table["rows"]]
    if table.get("notes"):
        lines += ["", *table["notes"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only check; exit 1 when a table is out of date")
    ap.add_argument("docs", nargs="*", type=Path, default=sorted((ROOT / "docs").glob("*.md")))
    args = ap.parse_args(argv)
    stale = []
    for path in args.docs:
        text = path.read_text(encoding="utf-8")
        new = render(text)
        if new != text:
            stale.append(path)
            if not args.check:
                path.write_text(new, encoding="utf-8")
    for path in stale:
        print(f"{path}: {'out of date' if args.check else 'tables regenerated'}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
