"""Template helpers for the alignment map."""

from django import template

register = template.Library()

STATUS_LABELS = {
    "on_track": "On track",
    "at_risk": "At risk",
    "off_track": "Off track",
    "stale": "Stale",
    "none": "Not live",
}
# Initiative statuses in the order their dots are drawn, with what each dot means.
DOT_ORDER = (
    ("done", "done"),
    ("in_progress", "in progress"),
    ("blocked", "blocked"),
    ("not_started", "not started"),
    ("cancelled", "cancelled"),
)
MAX_DOTS = 8


@register.filter
def map_status_label(code: str) -> str:
    return STATUS_LABELS.get(code, "")


@register.filter
def initiative_dots(counts: dict) -> list[str]:
    """One dot per initiative, done first (at most MAX_DOTS; the count beside them says the rest)."""
    dots: list[str] = []
    for status, _ in DOT_ORDER:
        dots.extend([status] * counts.get(status, 0))
    return dots[:MAX_DOTS]


@register.filter
def initiative_summary(counts: dict) -> str:
    """ "3 initiatives: 2 done, 1 blocked" (cancelled ones are listed but not counted as bets)."""
    parts = [f"{counts[s]} {label}" for s, label in DOT_ORDER if counts.get(s)]
    total = counts.get("total", 0)
    noun = "initiative" if total == 1 else "initiatives"
    return f"{total} {noun}" + (": " + ", ".join(parts) if parts else "")


@register.filter
def pct(value) -> int:
    try:
        return max(0, min(100, round(float(value) * 100)))
    except (TypeError, ValueError):
        return 0
