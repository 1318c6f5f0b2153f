"""``python -m facemetric``: the same program as the ``facemetric`` command."""

import sys

from facemetric.cli.main import main

sys.exit(main())
