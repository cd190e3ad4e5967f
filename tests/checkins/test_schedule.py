"""Nudge scheduling across time zones, DST changes and timing edits (time-travel tests)."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from accounts.services import membership_update_preferences
from checkins.models import CheckinNudge
from checkins.nudge_dispatch import nudges_dispatch
from checkins.nudge_send import nudge_batch_send
from checkins.nudge_settings import organization_update_checkin_settings
from checkins.schedule import get_zone, next_nudge_at, week_start_for
from tests.checkins.nudge_helpers import make_kr, make_member
from tests.factories import OrganizationFactory


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def local(dt, tz):
    return dt.astimezone(get_zone(tz))


def test_berlin_nine_oclock_stays_nine_across_spring_forward():
    # Monday 23 March 2026 09:00 CET (UTC+1); DST starts Sunday 29 March; next Monday 09:00 is CEST (UTC+2).
    first = next_nudge_at(after=utc(2026, 3, 20), weekday=0, hour=9, tz="Europe/Berlin")
    assert first == utc(2026, 3, 23, 8)
    second = next_nudge_at(after=first, weekday=0, hour=9, tz="Europe/Berlin")
    assert second == utc(2026, 3, 30, 7)
    assert local(second, "Europe/Berlin").hour == 9


def test_berlin_nine_oclock_stays_nine_across_fall_back():
    slot = next_nudge_at(after=utc(2026, 10, 26, 7, 30), weekday=0, hour=9, tz="Europe/Berlin")
    assert slot == utc(2026, 10, 26, 8)  # Monday after the change: CET again
    assert local(slot, "Europe/Berlin").hour == 9


def test_new_york_nonexistent_hour_goes_out_when_the_clock_jumps():
    # Sunday 8 March 2026: 02:00 does not exist in New York (01:59 EST → 03:00 EDT).
    slot = next_nudge_at(after=utc(2026, 3, 7), weekday=6, hour=2, tz="America/New_York")
    assert slot == utc(2026, 3, 8, 7)
    assert local(slot, "America/New_York").hour == 3  # the instant the clock jumped: not skipped, not doubled
    following = next_nudge_at(after=slot, weekday=6, hour=2, tz="America/New_York")
    assert following == utc(2026, 3, 15, 6)  # 02:00 EDT the week after


def test_new_york_ambiguous_hour_is_sent_once_at_the_first_occurrence():
    # Sunday 1 November 2026: 01:00-01:59 happens twice (EDT, then EST).
    slot = next_nudge_at(after=utc(2026, 10, 31), weekday=6, hour=1, tz="America/New_York")
    assert slot == utc(2026, 11, 1, 5)  # 01:00 EDT
    following = next_nudge_at(after=slot, weekday=6, hour=1, tz="America/New_York")
    assert following == utc(2026, 11, 8, 6)  # not 06:00 UTC the same day (the second 01:00)


def test_kolkata_half_hour_offset_and_no_dst():
    slots = [utc(2026, 3, 1)]
    for _ in range(40):
        slots.append(next_nudge_at(after=slots[-1], weekday=0, hour=9, tz="Asia/Kolkata"))
    assert all(s.hour == 3 and s.minute == 30 for s in slots[1:])
    assert all(b - a == timedelta(days=7) for a, b in zip(slots[1:], slots[2:], strict=False))


def test_auckland_slots_follow_local_time_and_local_week():
    # NZ DST ends Sunday 5 April 2026 (NZDT +13 → NZST +12). Monday 09:00 local is Sunday evening UTC.
    before = next_nudge_at(after=utc(2026, 3, 28), weekday=0, hour=9, tz="Pacific/Auckland")
    assert before == utc(2026, 3, 29, 20)  # Mon 30 March 09:00 NZDT
    after = next_nudge_at(after=before, weekday=0, hour=9, tz="Pacific/Auckland")
    assert after == utc(2026, 4, 5, 21)  # Mon 6 April 09:00 NZST
    assert week_start_for(moment=after, tz="Pacific/Auckland") == date(2026, 4, 6)  # the NZ Monday, not UTC's Sunday
    assert week_start_for(moment=after, tz="UTC") == date(2026, 3, 30)


def test_unknown_timezone_falls_back_to_utc():
    assert next_nudge_at(after=utc(2026, 1, 1), weekday=3, hour=9, tz="Mars/Olympus") == utc(2026, 1, 1, 9)


@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Auckland"])
def test_dispatcher_nudges_at_local_nine_every_week_across_dst(db, tz, django_capture_on_commit_callbacks):
    """Time-travel three months in 5-minute-resolution jumps around each slot: one receipt per week, at 09:00 local."""
    org = OrganizationFactory(timezone=tz, checkin_weekday=0, checkin_hour=9)
    member = make_member(org)
    make_kr(member)
    sent_local_hours, weeks = [], []
    with time_machine.travel(utc(2026, 2, 20), tick=False) as traveller:
        nudges_dispatch()  # first run only schedules
        for _ in range(16):
            member.refresh_from_db()
            slot = member.next_nudge_at
            traveller.move_to(slot - timedelta(minutes=5))
            assert nudges_dispatch().claimed == 0  # not due yet
            traveller.move_to(slot + timedelta(minutes=3))
            with django_capture_on_commit_callbacks(execute=False):
                result = nudges_dispatch()
            assert result.claimed == 1 and result.receipts == 1
            nudge_batch_send(receipt_ids=result.batches[0])  # the send task writes the week's receipt
            sent_local_hours.append(local(slot, tz).hour)
            weeks.append(week_start_for(moment=slot, tz=tz))
    assert sent_local_hours == [9] * 16
    assert len(set(weeks)) == 16 and all(w.weekday() == 0 for w in weeks)
    assert CheckinNudge.objects.filter(membership=member, kind="nudge").count() == 16


def test_member_timezone_edit_recomputes_next_nudge(member):
    with time_machine.travel(utc(2026, 6, 1, 12), tick=False):
        membership_update_preferences(membership=member, timezone="Asia/Kolkata", checkin_weekday=2, checkin_hour=10)
        member.refresh_from_db()
        assert member.next_nudge_at == utc(2026, 6, 3, 4, 30)  # Wed 10:00 IST
        membership_update_preferences(membership=member, timezone="")  # back to the org default (UTC)
        member.refresh_from_db()
        assert member.next_nudge_at == utc(2026, 6, 3, 10)


def test_org_timing_edit_recomputes_everyone_on_defaults(org, admin, member):
    override = make_member(org, timezone="Pacific/Auckland", checkin_weekday=4, checkin_hour=16)
    with time_machine.travel(utc(2026, 6, 1, 12), tick=False):
        organization_update_checkin_settings(
            actor=admin, timezone="America/New_York", checkin_weekday=1, checkin_hour=8
        )
    member.refresh_from_db()
    override.refresh_from_db()
    assert member.next_nudge_at == utc(2026, 6, 2, 12)  # Tue 08:00 EDT
    assert override.next_nudge_at == utc(2026, 6, 5, 4)  # Fri 16:00 NZST, untouched by the org default


def test_inactive_members_are_not_scheduled(org):
    gone = make_member(org, is_active=False)
    nudges_dispatch()
    gone.refresh_from_db()
    assert gone.next_nudge_at is None
