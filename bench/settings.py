"""Bench-only settings: production settings plus a URLconf that adds the raw-SQL baseline view."""

from okrapp.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
