"""Command-line interface: ``facemetric <verb>``. See :mod:`facemetric.cli.main`."""
