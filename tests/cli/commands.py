"""Every command and group of the ``facemetric`` app, discovered from the app itself.

A verb added later is picked up by the tests without a change here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperArgument, TyperGroup, TyperOption

from facemetric.cli.main import app


@dataclass(frozen=True)
class Cmd:
    """One command (or group) as a user types it: ``path`` after ``facemetric``."""

    path: tuple[str, ...]
    command: Any

    @property
    def id(self) -> str:
        return " ".join(self.path) or "facemetric"

    @property
    def is_group(self) -> bool:
        return isinstance(self.command, TyperGroup)

    def params(self) -> list[Any]:
        return [p for p in self.command.params if p.name != "help"]

    def required(self) -> list[Any]:
        return [p for p in self.params() if p.required]


def walk(command: Any, path: tuple[str, ...] = ()) -> list[Cmd]:
    found = [Cmd(path, command)]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        found += walk(sub, path + (name,))
    return found


ROOT = typer.main.get_command(app)
ALL = walk(ROOT)
GROUPS = [c for c in ALL if c.is_group]
COMMANDS = [c for c in ALL if not c.is_group]


def flag_of(param: Any) -> str:
    return next(o for o in param.opts if o.startswith("--"))


def is_path(param: Any) -> bool:
    return param.type_descriptor.is_path


def sample_value(param: Any) -> str:
    """A valid-looking value for a required non-path parameter."""
    desc = param.type_descriptor
    if desc.is_choice:
        return str(desc.choices[0])
    if desc.annotation in (int, float):
        return "1"
    return {"method": "cosine", "detector": "dlib", "embedder": "dlib", "name": "lfw"}.get(param.name, "x")


def argv_for(cmd: Cmd, values: dict[str, str]) -> list[str]:
    """``cmd`` with every required parameter given: ``values[name]`` or a sample value."""
    args: list[str] = list(cmd.path)
    for param in cmd.required():
        value = values.get(param.name, sample_value(param))
        if isinstance(param, TyperArgument):
            args.append(value)
        elif isinstance(param, TyperOption):
            args += [flag_of(param), value]
    return args


def numeric_option(cmd: Cmd) -> Any | None:
    """The first option taking a number or one of fixed choices (a value that can be wrong)."""
    for param in cmd.params():
        if isinstance(param, TyperOption) and not param.is_flag:
            desc = param.type_descriptor
            if desc.annotation in (int, float) or desc.is_choice:
                return param
    return None
