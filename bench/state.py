"""Bench data on demand: `make bench` on a fresh clone (or after `make clean-data`) migrates its database and
generates the org it measures, instead of failing on a missing state file or an empty database."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path


def migrate() -> None:
    """Bring the bench database up to date (a no-op, ~1 s, when it already is)."""
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def load_or_generate(path: Path, generate: Callable[[], dict], what: str) -> dict:
    """The state `path` records, when this database still holds its org; otherwise `generate()` it first."""
    from accounts.models import Organization

    migrate()
    if path.exists():
        state = json.loads(path.read_text())
        if Organization.objects.filter(slug=state.get("slug")).exists():
            return state
        reason = f"{path.name} names the org {state.get('slug')!r}, which this database does not have"
    else:
        reason = f"{path.name} does not exist yet"
    print(f"{reason}: generating {what} first (a few minutes; later runs reuse it).", flush=True)
    return generate()
