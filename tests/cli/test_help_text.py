"""The help of every command reads well at 80 columns: no line breaks mid-sentence (see
tests/cli/help_layout.py for the exact rule), nothing of the text is lost to markup, and every
command shows examples. Commands are discovered from the app, so new verbs are checked too."""

from __future__ import annotations

import re

import pytest
import typer

from facemetric.cli.main import main

from .commands import ALL, COMMANDS
from .help_layout import ANSI, mid_sentence_breaks


def help_text(capsys, monkeypatch, path: tuple[str, ...], width: int) -> str:
    monkeypatch.setenv("COLUMNS", str(width))
    assert main([*path, "--help"]) == 0
    return ANSI.sub("", capsys.readouterr().out)


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("cmd", ALL, ids=lambda c: c.id)
def test_no_line_breaks_mid_sentence(capsys, monkeypatch, cmd, width):
    text = help_text(capsys, monkeypatch, cmd.path, width)
    assert max(len(line) for line in text.splitlines()) <= width
    assert mid_sentence_breaks(text, width) == []


def test_checker_finds_a_hard_wrapped_docstring(capsys, monkeypatch):
    """The rule can fail: Typer's rich mode keeps the line breaks of a later paragraph."""
    app = typer.Typer(rich_markup_mode="rich")

    @app.command()
    def demo(x: int = typer.Option(1, help="Some help.")) -> None:
        """First line.

        A second paragraph, wrapped by hand in the source: it breaks here
        and not where the terminal ends.
        """

    @app.command()
    def other() -> None:
        """Another."""

    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit):
        app(["demo", "--help"], prog_name="demo")
    breaks = mid_sentence_breaks(capsys.readouterr().out, 80)
    assert breaks and "breaks here" in breaks[0]


def _words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z0-9]+", text))


@pytest.mark.parametrize("cmd", ALL, ids=lambda c: c.id)
def test_no_help_text_is_lost_to_markup(capsys, monkeypatch, cmd):
    """Markdown drops what looks like an HTML tag (``<name>``): every word written must be shown."""
    shown = _words(help_text(capsys, monkeypatch, cmd.path, 250))
    written = _words(cmd.command.help or "")
    for param in cmd.params():
        written |= _words(getattr(param, "help", None) or "")
    assert written - shown == set()


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: c.id)
def test_every_command_has_examples(capsys, monkeypatch, cmd):
    text = help_text(capsys, monkeypatch, cmd.path, 250)
    assert "Examples:" in text
    prefix = "facemetric " + " ".join(cmd.path)
    examples = [line.strip(" •") for line in text.splitlines() if line.strip(" •").startswith(prefix)]
    assert examples, f"no example of {prefix} in its help"
