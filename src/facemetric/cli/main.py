"""The ``facemetric`` command: one module per verb, each a thin layer over the library.

Each verb module defines ``register(app)``. Library errors (:class:`FacemetricError`)
become one line on stderr and exit code 1; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys

import typer

from facemetric.cli import (
    align,
    benchmark,
    challenge,
    datasets,
    evaluate,
    extract,
    fit,
    info,
    protocol,
    scale,
    score,
)
from facemetric.errors import FacemetricError

app = typer.Typer(
    name="facemetric",
    help="Metric learning and honest verification evaluation on face descriptors.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _module in (info, evaluate, extract, align, datasets, fit, score, benchmark, protocol, challenge, scale):
    _module.register(app)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI and turn user errors into one clean line."""
    try:
        code = app(args=argv, standalone_mode=False)  # click returns typer.Exit's code here
        if isinstance(code, int) and code:
            return code
    except FacemetricError as exc:
        typer.secho(f"error: {exc}", err=True, fg="red")
        return 1
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 130
    except typer.Exit as exc:
        return exc.exit_code
    except SystemExit as exc:  # click's own exits (--help, usage errors)
        return int(exc.code or 0)
    except Exception as exc:  # click.ClickException and friends
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            return exc.exit_code
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
