"""One exception family. Every message names the thing at fault and says what to do.

The CLI turns any :class:`FacemetricError` into exit code 1 and one line on stderr;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path


class FacemetricError(Exception):
    """Base of every error a user can cause and fix."""


class InputError(FacemetricError, ValueError):
    """A file or array given by the user cannot be used as it is."""


class ProtocolError(InputError):
    """A pair list, fold assignment or label set is malformed."""


class ConfigError(FacemetricError, ValueError):
    """A parameter or option has a value that cannot work."""


class MissingDependencyError(FacemetricError, ImportError):
    """An optional dependency is not installed."""


class NotFittedError(FacemetricError, AttributeError):
    """A model was used before ``fit`` or ``load``."""


def bad_file(path: str | Path, problem: str, fix: str = "") -> InputError:
    """Build the standard one-line message ``<path>: <problem>. <fix>``."""
    msg = f"{path}: {problem}"
    if fix:
        msg += f". {fix}"
    return InputError(msg)


def require(module: str, extra: str):
    """Import an optional dependency lazily, or say which extra installs it.

    >>> np = require("numpy", "core")
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised with a fake module name in tests
        raise MissingDependencyError(
            f"{module} is not installed; install it with: pip install 'facemetric[{extra}]'"
        ) from exc
