"""The ``facemetric`` command: one module per verb, each a thin layer over the library.

Each verb module defines ``register(app)``. :func:`main` turns what a user can get wrong
into one clear line and an exit code, never a traceback:

- usage mistakes (unknown verb or option, missing argument, bad value): click's usage line,
  a hint and one ``Error:`` line, exit code 2; a group called without its subcommand prints
  its help and ``Error: Missing command.``, exit code 2;
- library errors (:class:`FacemetricError`) and OS errors naming a file: one ``error:`` line,
  exit code 1;
- Ctrl-C: exit code 130. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys

import typer
from typer._click.exceptions import NoArgsIsHelpError

from facemetric.cli import (
    align,
    all_pairs,
    benchmark,
    challenge,
    combine,
    datasets,
    evaluate,
    export,
    extract,
    fit,
    info,
    methods,
    protocol,
    scale,
    score,
    search,
    templates,
)
from facemetric.cli.command import use_facemetric_classes
from facemetric.cli.warnings_echo import clean_warnings
from facemetric.errors import FacemetricError

PROG = "facemetric"

app = typer.Typer(
    name=PROG,
    help="Metric learning and honest verification evaluation on face descriptors.\n\n"
    "Start with `facemetric datasets fetch lfw`, then `extract`, `evaluate` and `benchmark`; "
    "`facemetric methods` lists the metrics. Every command has examples in its --help.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)


def _print_version(value: bool) -> None:
    if value:
        from facemetric import __version__

        typer.echo(f"{PROG} {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", is_eager=True, callback=_print_version
    ),
) -> None:
    """Metric learning and honest verification evaluation on face descriptors."""


for _module in (info, methods, evaluate, extract, align, datasets, combine, fit, score, benchmark, protocol, challenge,
                scale, search, templates, all_pairs, export):
    _module.register(app)
use_facemetric_classes(app)


def _error(message: str) -> int:
    typer.secho(f"error: {message}", err=True, fg="red")
    return 1


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI; return the exit code (0 ok, 1 user error, 2 usage error, 130 Ctrl-C)."""
    try:
        with clean_warnings():
            code = app(args=argv, prog_name=PROG, standalone_mode=False)
    except FacemetricError as exc:
        return _error(str(exc))
    except NoArgsIsHelpError as exc:  # a group without its subcommand, or `facemetric` alone
        if exc.format_message().strip():  # the help; with rich it was printed already
            typer.echo(exc.format_message(), err=True)
        typer.echo("Error: Missing command.", err=True)
        return exc.exit_code
    except typer.TyperException as exc:  # typer's (vendored click's) usage and file errors
        if hasattr(exc, "show"):
            exc.show()
        else:
            typer.echo(f"Error: {exc.format_message()}", err=True)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 130
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except OSError as exc:
        if exc.filename is None:
            raise
        return _error(f"{exc.filename}: {exc.strerror or exc}")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
