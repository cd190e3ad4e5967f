"""objectives.health_sql (signal codes judged by PostgreSQL) against objectives.health.kr_signals, KR by KR, on
random facts: kinds, values, owners in other time zones and check-in slots, initiatives, flat and moving check-ins,
cycles at different points in time, and the org's own thresholds."""

import random
from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone

from checkins.models import CheckIn
from objectives import health, health_sql
from objectives.assembly import Context
from objectives.models import KeyResult
from objectives.progress import kr_progress
from tests.factories import MembershipFactory
from tests.factories_okr import CycleFactory, InitiativeFactory, KeyResultFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db


def test_decode_keeps_the_order_of_the_full_rules():
    mask = sum(health_sql.BIT[c] for c in ("focus", "stale", "on_track", "task_in_disguise", "watermelon"))
    assert health_sql.decode(mask) == ("on_track", "watermelon", "task_in_disguise", "stale", "focus")
    assert health_sql.decode(0) == ()


def _random_world(org, owners, rnd: random.Random) -> list[KeyResult]:
    today = timezone.now().date()
    cycles = [
        CycleFactory(organization=org, start_date=today - timedelta(days=d), end_date=today + timedelta(days=90 - d))
        for d in (1, 30, 45, 60, 75, 89, -10)  # just started ... last day, not started yet
    ]
    krs = []
    for i in range(120):
        o = ObjectiveFactory(cycle=rnd.choice(cycles), owner=rnd.choice(owners))
        kind = rnd.choice(["increase", "decrease", "maintain", "milestone"])
        owner = rnd.choice([*owners, None])
        kr = KeyResultFactory(
            objective=o,
            owner=owner,
            title=rnd.choice(["Launch the portal", "Increase NRR", "ship it", "42 reduce churn", "", "Hire 3 SREs"]),
            kind=kind,
            unit=rnd.choice(["number", "percent", "none", "currency"]),
            baseline=(baseline := rnd.choice([0, 10, 100])),
            target=rnd.choice([baseline, 0, 50, 200]),
            current=rnd.choice([0, 1, 2, 5, 30, 50, 99.6, 150, rnd.randint(0, 200)]),
            band_low=rnd.choice([None, 99.5]) if kind == "maintain" else None,
            band_high=rnd.choice([None, 100]) if kind == "maintain" else None,
            milestone_steps=rnd.choice([[], ["a", "b", "c"]]) if kind == "milestone" else [],
            confidence=rnd.choice([None, 0, 3, 4, 5, 7, 10]),
            status=rnd.choice(["active", "active", "closed"]) if owner else "draft",
            last_checkin_at=rnd.choice([None, timezone.now() - timedelta(days=rnd.choice([0, 6, 8, 13, 15, 40]))]),
        )
        for _ in range(rnd.choice([0, 1, 3, 6, 7])):
            InitiativeFactory(key_result=kr, status=rnd.choice(["done", "done", "in_progress", "cancelled"]))
        value = rnd.choice([10, 20])
        for k in range(rnd.choice([0, 2, 3, 4])):
            CheckIn.objects.create(
                organization=org,
                key_result=kr,
                author=owners[0],
                value=value if rnd.random() < 0.7 else value + k,
                week_start=today - timedelta(days=7 * k),
            )
        krs.append(kr)
    return krs


def _full_codes(kr: KeyResult, ctx: Context) -> list[str]:
    owner = kr.owner
    cycle = kr.objective.cycle
    initiatives = list(kr.initiatives.all())
    recent = list(CheckIn.objects.filter(key_result=kr).order_by("-created_at").values_list("value", flat=True)[:3])
    progress = kr_progress(
        kind=kr.kind,
        baseline=kr.baseline,
        target=kr.target,
        current=kr.current,
        band_low=kr.band_low,
        band_high=kr.band_high,
        milestone_steps=kr.milestone_steps,
    ).value
    signals = health.kr_signals(
        title=kr.title,
        kind=kr.kind,
        unit=kr.unit,
        baseline=kr.baseline,
        target=kr.target,
        status=kr.status,
        has_owner=owner is not None,
        progress=progress,
        expected=ctx.expected(cycle.start_date, cycle.end_date),
        confidence=kr.confidence,
        initiatives_total=sum(i.status != "cancelled" for i in initiatives),
        initiatives_done=sum(i.status == "done" for i in initiatives),
        recent_values=recent,
        last_checkin_at=kr.last_checkin_at,
        created_at=kr.created_at,
        now=ctx.now,
        stale_cutoff=ctx.stale_cutoff(
            owner.timezone if owner else None,
            owner.checkin_weekday if owner else None,
            owner.checkin_hour if owner else None,
        ),
        t=ctx.thresholds,
    )
    return [s.code for s in signals]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sql_codes_equal_the_full_rules_kr_by_kr(org, owner, seed):
    rnd = random.Random(seed)
    if seed == 3:  # the org's own thresholds reach the SQL too
        org.signal_settings = {"on_track": 0.9, "at_risk": 0.6, "watermelon_done_share": 0.5, "focus_initiatives": 2}
        org.save()
    owners = [
        owner,
        MembershipFactory(organization=org, timezone="America/New_York", checkin_weekday=4, checkin_hour=16),
        MembershipFactory(organization=org, timezone="Asia/Kolkata", checkin_weekday=None, checkin_hour=7),
    ]
    krs = _random_world(org, owners, rnd)
    ctx = Context.for_org(org)
    got = health_sql.key_result_codes(org, ctx, [kr.pk for kr in krs])
    seen = set()
    for kr in KeyResult.objects.filter(pk__in=[k.pk for k in krs]).select_related("owner", "objective__cycle"):
        expected = _full_codes(kr, ctx)
        assert list(got[kr.pk]) == expected, (kr.title, kr.kind, kr.status)
        seen.update(expected)
    # The random world exercises (nearly) every signal, so agreement means something.
    assert {"on_track", "off_track", "watermelon", "task_in_disguise", "stale", "no_work", "unowned"} <= seen


def test_sql_codes_follow_the_clock_across_a_dst_change(org, owner):
    """Stale depends on the owner's local check-in slot: judged with the cut-off Python computes (DST-correct)."""
    owner.timezone, owner.checkin_weekday, owner.checkin_hour = "Europe/Berlin", 0, 9
    owner.save()
    cycle = CycleFactory(organization=org, start_date=date(2026, 3, 1), end_date=date(2026, 5, 31))
    kr = KeyResultFactory(objective=ObjectiveFactory(cycle=cycle, owner=owner), owner=owner)
    InitiativeFactory(key_result=kr)
    for now in ("2026-03-23 07:59:00+00:00", "2026-03-30 06:59:00+00:00", "2026-03-30 07:00:00+00:00"):
        with time_machine.travel(now, tick=False):
            KeyResult.objects.filter(pk=kr.pk).update(last_checkin_at=timezone.now() - timedelta(days=8))
            kr.refresh_from_db()
            ctx = Context.for_org(org)
            assert list(health_sql.key_result_codes(org, ctx, [kr.pk])[kr.pk]) == _full_codes(kr, ctx), now
