"""Presentation helpers for the OKR pages: one mapping from statuses to chip colours, used everywhere."""

import zoneinfo
from datetime import timedelta

from django import template
from django.utils import dateformat, timezone
from django.utils.timesince import timesince

from objectives.board import row_chips

register = template.Library()

# Status → chip colour. The same colours on every page (cycle, objective, KR, team, dashboard).
STATUS_COLOURS = {
    # objectives / key results / cycles
    "draft": "grey",
    "planning": "grey",
    "active": "blue",
    "closed": "green",
    "archived": "grey",
    # initiatives
    "not_started": "grey",
    "in_progress": "blue",
    "blocked": "red",
    "done": "green",
    "cancelled": "grey",
}


@register.filter
def status_colour(status: str) -> str:
    return STATUS_COLOURS.get(str(status), "grey")


@register.filter
def percent(value) -> int:
    """0.4567 → 46 (for progress bars); None → 0."""
    try:
        return max(0, min(100, round(float(value) * 100)))
    except (TypeError, ValueError):
        return 0


@register.filter
def initials(membership) -> str:
    user = getattr(membership, "user", None)
    return user.initials if user is not None else "?"


@register.filter
def ago(value) -> str:
    """'3 hours ago'; 'just now' under a minute, where timesince says '0 minutes'."""
    if not value:
        return ""
    if timezone.now() - value < timedelta(minutes=1):
        return "just now"
    return f"{timesince(value)} ago"


@register.filter
def local_time(value, membership) -> str:
    """An instant in the viewer's time zone (their own, else the org's), with the zone: '2026-05-13 14:02:11 CEST'.
    The site runs in UTC, so a plain |date would show UTC."""
    if not value:
        return ""
    try:
        zone = zoneinfo.ZoneInfo(getattr(membership, "effective_timezone", None) or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return dateformat.format(value.astimezone(zone), "Y-m-d H:i:s T")


@register.filter
def get_item(mapping, key):
    """{{ mapping|get_item:key }} for dicts keyed by ids."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def row_signals(objective: dict) -> list[dict]:
    """Chips for an objective's row (objectives.board.row_chips: own signals, then KR signals grouped by code)."""
    return row_chips(objective)


@register.filter
def confidence_class(value) -> str:
    if value is None:
        return ""
    return "high" if value >= 7 else "mid" if value >= 4 else "low"


@register.simple_tag(takes_context=True)
def okr_dashboard(context) -> dict | None:
    """The current cycle's board for the org dashboard (None when there is no cycle or nothing in it yet)."""
    from objectives import selectors

    org, membership = context.get("current_org"), context.get("current_membership")
    if org is None or membership is None:
        return None
    cycle = selectors.cycle_current(org=org)
    if cycle is None:
        return None
    board = selectors.cycle_board(org=org, membership=membership, cycle=cycle)
    return board if board["summary"]["objectives"] else None


@register.filter
def wrap_list(value) -> list:
    return [value] if value is not None else []


@register.filter
def hundredth(value) -> float:
    """A 0–100 percentage (initiative progress) as a 0–1 share for the progress bar."""
    try:
        return float(value) / 100
    except (TypeError, ValueError):
        return 0.0


FIELD_LABELS = {"band_low": "Band low", "band_high": "Band high", "unit_label": "Unit label"}


@register.filter
def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, str(name).replace("_", " ").capitalize())
