"""``python -m candor`` is the ``candor`` command."""

import sys

from candor.cli import main

sys.exit(main())
