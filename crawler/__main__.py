"""``python -m crawler`` is ``wirewatch``."""

import sys

from crawler.cli import main

sys.exit(main())
