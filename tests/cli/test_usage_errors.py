"""Every verb and subcommand, driven as a user would get it wrong: no arguments, --help, an unknown
option, a bad value, a missing file. Each mistake gives exit code 2 (usage) or 1 (user error), one
clear line, and never a traceback.

The commands are discovered from the app (tests/cli/commands.py), so a new verb is covered too.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from facemetric.cli.main import main

from .commands import ALL, COMMANDS, GROUPS, argv_for, flag_of, is_path, numeric_option

# Commands that take no file a user could get wrong, or where the file to miss is an option.
MISSING_FILE_OPTION = {("datasets", "fetch"): "--from"}
NO_FILE = {("methods",)}
# Outputs whose name is checked before any input is read.
OUTPUT_NAMES = {("scale", "score"): {"out": "scores.npy"}, ("export",): {"out": "head.onnx"}}
MISSING = ("does not exist", "is not a folder", "not found")


def run(capsys, argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_usage_error(code: int, out: str, err: str, *, needle: str = "") -> str:
    """Exit code 2, click's usage line, exactly one ``Error:`` line (returned), no traceback."""
    assert code == 2, (code, out, err)
    assert "Traceback" not in out + err
    errors = [line for line in err.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, err
    assert needle in errors[0], errors[0]
    return errors[0]


def assert_user_error(code: int, out: str, err: str, *, needle: str = "") -> str:
    """Exit code 1 and one ``error:`` line on stderr (returned), no traceback."""
    assert code == 1, (code, out, err)
    assert "Traceback" not in out + err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert needle in lines[0], lines[0]
    return lines[0]


def test_discovery_finds_every_verb():
    names = {c.path[0] for c in ALL if c.path}
    assert {"info", "methods", "evaluate", "extract", "align", "datasets", "fit", "score", "benchmark",
            "protocol", "challenge", "scale"} <= names
    assert len(COMMANDS) >= 20


@pytest.mark.parametrize("cmd", ALL, ids=lambda c: c.id)
def test_help(capsys, cmd):
    code, out, err = run(capsys, [*cmd.path, "--help"])
    assert code == 0, err
    assert f"Usage: facemetric {' '.join(cmd.path)}".rstrip() in " ".join(out.split())
    assert "Traceback" not in out + err
    assert "<bool>" not in out and "{" + "}" not in out


@pytest.mark.parametrize("cmd", ALL, ids=lambda c: c.id)
def test_no_arguments(capsys, cmd):
    code, out, err = run(capsys, list(cmd.path))
    if cmd.is_group:  # the group's help, then one line saying what is missing
        assert_usage_error(code, out, err, needle="Missing command")
        assert "Commands" in out + err
    elif cmd.required():
        assert_usage_error(code, out, err, needle="Missing")
        assert "Usage: facemetric" in err
    else:  # nothing required: the command runs (e.g. `facemetric methods`)
        assert code == 0, err


@pytest.mark.parametrize("cmd", ALL, ids=lambda c: c.id)
def test_unknown_option(capsys, cmd):
    code, out, err = run(capsys, [*cmd.path, "--bogus-option"])
    assert_usage_error(code, out, err, needle="--bogus-option")
    assert "Usage: facemetric" in err


def test_unknown_verb(capsys):
    for argv in (["nosuchverb"], ["challenge", "nosuch"], ["scale", "nosuch"], ["challenge", "team", "x"]):
        code, out, err = run(capsys, argv)
        assert_usage_error(code, out, err, needle="No such command")


@pytest.mark.parametrize("cmd", [c for c in COMMANDS if numeric_option(c) is not None], ids=lambda c: c.id)
def test_bad_value(capsys, cmd):
    option = numeric_option(cmd)
    code, out, err = run(capsys, [*cmd.path, flag_of(option), "abc"])
    assert_usage_error(code, out, err, needle=flag_of(option))


def test_bad_value_covers_most_commands():
    assert len([c for c in COMMANDS if numeric_option(c) is not None]) >= 12


@pytest.mark.parametrize("cmd", [c for c in COMMANDS if c.path not in NO_FILE], ids=lambda c: c.id)
def test_missing_file(capsys, cmd, tmp_path):
    absent = tmp_path / "absent"
    values = {p.name: str(absent / f"{p.name}.npz") for p in cmd.required() if is_path(p)}
    values.update({k: str(tmp_path / v) for k, v in OUTPUT_NAMES.get(cmd.path, {}).items()})
    argv = argv_for(cmd, values)
    if cmd.path in MISSING_FILE_OPTION:
        argv += [MISSING_FILE_OPTION[cmd.path], str(absent / "given")]
    else:
        assert values, f"{cmd.id} has no required file; add it to MISSING_FILE_OPTION or NO_FILE"
    code, out, err = run(capsys, argv)
    line = assert_user_error(code, out, err, needle=str(absent))
    assert any(m in line for m in MISSING), line
    assert not absent.exists(), "a failed command must not create the folders it was given"


def test_version_and_python_m():
    from facemetric import __version__

    done = subprocess.run([sys.executable, "-m", "facemetric", "--version"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == f"facemetric {__version__}", done.stderr
    done = subprocess.run([sys.executable, "-m", "facemetric", "evaluate", "--bogus"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("Error: No such option: --bogus")


def test_groups_are_discovered():
    assert {c.id for c in GROUPS} >= {"facemetric", "challenge", "challenge team", "datasets", "protocol",
                                      "scale"}
