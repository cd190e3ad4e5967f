"""bench/map.py's settings: bench.settings with the map baselines' URLconf."""

from bench.settings import *  # noqa: F403

ROOT_URLCONF = "bench.map_urls"
