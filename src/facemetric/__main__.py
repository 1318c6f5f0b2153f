"""``python -m facemetric``: the same program as the ``facemetric`` command.

Like the console script (``facemetric = facemetric.cli.main:main`` in pyproject.toml), this
entry point names the CLI module instead of importing it, so that no module of the package
imports ``facemetric.cli``: the CLI stays the top of the import graph.
"""

import runpy

runpy.run_module("facemetric.cli.main", run_name="__main__", alter_sys=True)
