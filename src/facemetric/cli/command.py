"""How every facemetric command reads in its help and usage line.

Typer 0.29 writes a required argument as ``{name}`` in the usage line and puts ``<bool>``
in the type column of every flag. Here arguments read as ``NAME`` (``[NAME]`` when
optional) and flags show no type; value options keep Typer's ``<path>``, ``<int>``...
unless they declare a metavar in the same style (``<dir>``, ``<spec>``).
:func:`use_facemetric_classes` applies this to every command and group of an app,
including verbs added later.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


def polish(param: Any) -> None:
    """Give ``param`` a readable metavar (idempotent; explicit metavars are kept)."""
    if param.metavar is not None:
        return
    if isinstance(param, TyperArgument):
        param.metavar = param.name.upper()
    elif isinstance(param, TyperOption) and param.is_flag:
        param.metavar = ""  # a flag takes no value: no <bool> in its type column


class _Polished:
    """Mixin: metavars polished on every parameter, the help option included."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            polish(param)
        return params

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []  # type: ignore[attr-defined]
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = param.metavar + ("..." if param.nargs != 1 else "")
                pieces.append(name if param.required else f"[{name}]")
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces


class FacemetricCommand(_Polished, TyperCommand):
    """A Typer command with facemetric's metavars and usage line."""


class FacemetricGroup(_Polished, TyperGroup):
    """A Typer group with facemetric's metavars and usage line."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return super().collect_usage_pieces(ctx) + [self.subcommand_metavar]


def use_facemetric_classes(app: typer.Typer) -> None:
    """Make every command and group of ``app`` (recursively) a facemetric one."""
    if app.info.cls in (None, TyperGroup) or not isinstance(app.info.cls, type):
        app.info.cls = FacemetricGroup
    for info in app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = FacemetricCommand
    for group in app.registered_groups:
        if group.typer_instance is not None:
            use_facemetric_classes(group.typer_instance)
