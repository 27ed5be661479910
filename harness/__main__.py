"""``python -m teecert`` is the ``teecert`` command."""

import sys

from .cli.main import main

sys.exit(main())
