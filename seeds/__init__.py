"""The seed stories: offline fixtures, and the source of the embedded default config.

``seeds/wirewatch.yaml`` is the config used when there is no ``./wirewatch.yaml``: the seed
stories bundled here, the example watchlist, a console channel, and ``wirewatch.db`` in the
current folder.
"""

from __future__ import annotations

from pathlib import Path

SEEDS_DIR = Path(__file__).resolve().parent
EMBEDDED_CONFIG = SEEDS_DIR / "wirewatch.yaml"
