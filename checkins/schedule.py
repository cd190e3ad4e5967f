"""When is a member's next weekly nudge? Pure functions on zoneinfo, plus the bulk re-scheduling writes.

A nudge slot is "weekday W at HH:00 local time" in the member's timezone (membership override, else org
default). Slots are computed from the *local calendar*, never by adding 7×24 h to the previous instant, so a 09:00
nudge stays 09:00 local across DST changes. Two deliberate choices for clock changes:

- nonexistent local time (spring forward, e.g. 02:00 in Europe/Berlin on the last Sunday of March): we use the
  offset from before the gap (zoneinfo's fold=0), which lands on the instant the clock jumps (03:00 local). The
  nudge is never skipped.
- ambiguous local time (fall back, e.g. 02:00 occurs twice): the first occurrence (fold=0). Slots are stepped by
  calendar date, so the second occurrence is never a second slot.

`week_start` is the Monday of the member's *local* week containing the slot; it keys the weekly receipt.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from django.db import connection
from django.utils import timezone


@lru_cache(maxsize=512)
def get_zone(name: str) -> zoneinfo.ZoneInfo:
    """The zone for a name; an unknown or empty name falls back to UTC (a bad value must not stop nudges)."""
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def local_slot(*, day: date, hour: int, tz: str) -> datetime:
    """`day` at `hour`:00 local time as an aware UTC datetime (gap → instant of the jump; overlap → first)."""
    local = datetime.combine(day, time(hour), tzinfo=get_zone(tz))  # fold=0, see the module docstring
    return local.astimezone(UTC)


def next_nudge_at(*, after: datetime, weekday: int, hour: int, tz: str) -> datetime:
    """The first slot (weekday at hour, local) strictly after `after`, in UTC."""
    local_after = after.astimezone(get_zone(tz))
    day = local_after.date() + timedelta(days=(weekday - local_after.weekday()) % 7)
    slot = local_slot(day=day, hour=hour, tz=tz)
    if slot <= after:
        slot = local_slot(day=day + timedelta(days=7), hour=hour, tz=tz)
    return slot


def week_start_for(*, moment: datetime, tz: str) -> date:
    """Monday of the local week containing `moment`."""
    local_day = moment.astimezone(get_zone(tz)).date()
    return local_day - timedelta(days=local_day.weekday())


def membership_timing(membership) -> tuple[int, int, str]:
    """(weekday, hour, timezone) in effect for a membership: its overrides, else its organization's defaults."""
    return (
        membership.effective_checkin_weekday,
        membership.effective_checkin_hour,
        membership.effective_timezone,
    )


def timing_from_row(m_tz: str, m_wd: int | None, m_hr: int | None, o_tz: str, o_wd: int, o_hr: int):
    """Effective timing from raw column values (the bulk paths read rows, not model instances)."""
    return (m_wd if m_wd is not None else o_wd, m_hr if m_hr is not None else o_hr, m_tz or o_tz)


def bulk_set_next_nudge(rows: list[tuple[int, datetime | None]]) -> int:
    """Set next_nudge_at for many memberships in one UPDATE (unnest arrays: 2 parameters, any row count)."""
    if not rows:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE accounts_membership AS m SET next_nudge_at = v.next_at
            FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, next_at)
            WHERE m.id = v.id
            """,
            [[r[0] for r in rows], [r[1] for r in rows]],
        )
        return cursor.rowcount


def memberships_reschedule(*, queryset, now: datetime | None = None) -> int:
    """Recompute next_nudge_at for the memberships in `queryset` (call whenever org or member timing changes).

    Callers pass an org-scoped queryset. Inactive members get None, so the dispatcher never even sees them.
    """
    now = now or timezone.now()
    fields = (
        "id",
        "is_active",
        "timezone",
        "checkin_weekday",
        "checkin_hour",
        "organization__timezone",
        "organization__checkin_weekday",
        "organization__checkin_hour",
    )
    rows = []
    cache: dict[tuple, datetime] = {}
    for pk, active, *timing_cols in queryset.values_list(*fields).iterator(chunk_size=5000):
        if not active:
            rows.append((pk, None))
            continue
        key = timing_from_row(*timing_cols)
        if key not in cache:
            cache[key] = next_nudge_at(after=now, weekday=key[0], hour=key[1], tz=key[2])
        rows.append((pk, cache[key]))
    return bulk_set_next_nudge(rows)


def membership_reschedule(*, membership, now: datetime | None = None) -> datetime | None:
    """Recompute and save one membership's next nudge time; returns it."""
    from accounts.models import Membership

    memberships_reschedule(queryset=Membership.objects.filter(pk=membership.pk), now=now)  # tenancy: by pk
    membership.next_nudge_at = (
        Membership.objects.filter(pk=membership.pk).values_list("next_nudge_at", flat=True).first()  # tenancy: by pk
    )
    return membership.next_nudge_at
