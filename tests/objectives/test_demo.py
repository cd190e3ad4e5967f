"""Demo data (`manage.py seed_demo`): idempotent, every KR kind and every health signal has something to show."""

import io

from django.core.management import call_command

from accounts.demo import DEMO_SLUG
from accounts.models import Membership, Organization
from checkins.models import CheckIn
from initiatives.models import Initiative
from objectives import selectors
from objectives.models import Contribution, Cycle, KeyResult, Objective

EXPECTED_KR_SIGNALS = {
    "on_track",
    "at_risk",
    "off_track",
    "watermelon",
    "task_in_disguise",
    "stale",
    "no_work",
    "unowned",
    "focus",
    "confidence_mismatch",
}


def _counts():
    return [m.objects.count() for m in (Cycle, Objective, KeyResult, Initiative, Contribution, CheckIn)]


def test_seed_demo_is_idempotent_and_shows_every_kind_and_signal(db):
    call_command("seed_demo", stdout=io.StringIO())
    first = _counts()
    call_command("seed_demo", stdout=io.StringIO())
    assert _counts() == first

    org = Organization.objects.get(slug=DEMO_SLUG)
    owner = Membership.objects.get(organization=org, user__email="demo@okrapp.local")
    quarter = selectors.cycle_current(org=org)
    assert quarter.kind == Cycle.Kind.QUARTER and quarter.parent.kind == Cycle.Kind.YEAR
    assert quarter.start_date <= selectors.assembly.Context.for_org(org).today <= quarter.end_date

    krs = KeyResult.objects.filter(organization=org)
    assert {k.kind for k in krs} == {"increase", "decrease", "maintain", "milestone"}
    assert (
        krs.filter(kind="milestone", milestone_steps=[]).exists()
        and krs.filter(kind="milestone").exclude(milestone_steps=[]).exists()
    )
    assert set(Initiative.objects.filter(organization=org).values_list("status", flat=True)) == set(
        Initiative.Status.values
    )
    assert Objective.objects.filter(organization=org, level="company", cycle=quarter).count() == 3
    assert Objective.objects.filter(organization=org).exclude(parent_key_result=None).exists()

    board = selectors.cycle_board(org=org, membership=owner, cycle=quarter)
    codes = {s.code for o in board["objectives"] for kr in o["key_results"] for s in kr["signals"]}
    assert codes >= EXPECTED_KR_SIGNALS, EXPECTED_KR_SIGNALS - codes

    # Eight weeks of check-ins; the KR reflects its latest one.
    kr = krs.get(title__startswith="Increase Day-7 activation")
    checkins = list(CheckIn.objects.filter(key_result=kr).order_by("-created_at"))
    assert len(checkins) == 8
    assert len({c.week_start for c in checkins}) == 8 and all(c.week_start.weekday() == 0 for c in checkins)
    assert kr.current == checkins[0].value and kr.last_checkin_at == checkins[0].created_at
