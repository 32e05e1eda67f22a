"""``python -m symcount``: the same as the ``symcount`` command."""

import sys

from .cli import main

sys.exit(main())
