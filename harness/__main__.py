"""``python -m teecert`` is the ``teecert`` command."""

import sys

from .cli import main

sys.exit(main())
