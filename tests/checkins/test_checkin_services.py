"""checkin_submit / initiative_checkin / checkin_submit_many: validation per kind, permissions, weeks, late flag."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from accounts.models import AuditEvent
from checkins import services
from checkins.models import CheckIn
from initiatives.models import Initiative
from objectives.models import Cycle, KeyResult
from objectives.services import objective_close
from tests.checkins.checkin_helpers import make_cycle, make_initiative, make_kr

WEDNESDAY = datetime(2026, 5, 13, 12, 0, tzinfo=UTC)


def submit(member, kr, value, **kw):
    return services.checkin_submit(org=member.organization, actor=member, key_result=kr, value=value, **kw)


def errors_of(excinfo) -> dict:
    return excinfo.value.message_dict


# --- Happy path ---------------------------------------------------------------------------------------------------
@time_machine.travel(WEDNESDAY, tick=False)
def test_checkin_updates_the_kr_and_is_audited(member):
    kr = make_kr(member, current=10, target=50)
    checkin = submit(member, kr, "24.5", confidence=7, comment="  Shipped the wizard  ")
    kr.refresh_from_db()
    assert checkin.value == Decimal("24.5")
    assert checkin.confidence == 7
    assert checkin.comment == "Shipped the wizard"
    assert checkin.author == member
    assert checkin.week_start == date(2026, 5, 11)  # Monday of that ISO week
    assert checkin.is_late is False
    assert kr.current == Decimal("24.5") and kr.confidence == 7 and kr.last_checkin_at == WEDNESDAY
    event = AuditEvent.objects.for_org(member.organization).get(verb="checkin.created")
    assert event.diff["value"] == ["10.0000", "24.5000"]
    assert event.actor == member.user


def test_checkin_without_confidence_keeps_the_previous_confidence(member):
    kr = make_kr(member, confidence=6)
    submit(member, kr, 12)
    kr.refresh_from_db()
    assert kr.confidence == 6
    assert CheckIn.objects.get().confidence is None


def test_admin_can_check_in_on_someone_elses_kr(member, admin):
    kr = make_kr(member)
    checkin = services.checkin_submit(org=admin.organization, actor=admin, key_result=kr, value=60)
    assert checkin.author == admin


# --- Validation per kind ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["abc", "", None, "1e400", "NaN", "Infinity"])
def test_value_must_be_a_finite_number(member, value):
    kr = make_kr(member)
    with pytest.raises(ValidationError) as exc:
        submit(member, kr, value)
    assert "value" in errors_of(exc)
    assert not CheckIn.objects.exists()


def test_value_too_large_or_too_precise(member):
    kr = make_kr(member)
    with pytest.raises(ValidationError) as exc:
        submit(member, kr, "123456789012345")
    assert "too large" in errors_of(exc)["value"][0]
    with pytest.raises(ValidationError) as exc:
        submit(member, kr, "1.23456")
    assert "4 decimal places" in errors_of(exc)["value"][0]
    assert submit(member, kr, "99999999999999.9999").value == Decimal("99999999999999.9999")


def test_thousands_separators_are_accepted(member):
    kr = make_kr(member, target=5000)
    assert submit(member, kr, "1,250").value == Decimal("1250")


def test_a_decimal_comma_is_a_decimal_point_not_a_thousands_separator(member):
    kr = make_kr(member, target=50)
    assert submit(member, kr, "39,5").value == Decimal("39.5")  # was saved as 395
    kr.refresh_from_db()
    assert kr.current == Decimal("39.5")


def test_ambiguous_separators_are_refused_not_guessed(member):
    kr = make_kr(member, current=7)
    with pytest.raises(ValidationError) as exc:
        submit(member, kr, "1,2,3")
    assert errors_of(exc) == {"value": ["Enter a number."]}
    kr.refresh_from_db()
    assert kr.current == 7 and not CheckIn.objects.exists()


@pytest.mark.parametrize("value", [0, 1, "1", "0.0"])
def test_binary_milestone_accepts_0_and_1(member, value):
    kr = make_kr(member, kind=KeyResult.Kind.MILESTONE, baseline=0, target=1, current=0)
    assert submit(member, kr, value).value in (0, 1)


@pytest.mark.parametrize("value", [2, "0.5", -1])
def test_binary_milestone_rejects_anything_else(member, value):
    kr = make_kr(member, kind=KeyResult.Kind.MILESTONE, baseline=0, target=1, current=0)
    with pytest.raises(ValidationError) as exc:
        submit(member, kr, value)
    assert errors_of(exc)["value"] == ["This milestone is either done (1) or not done (0)."]


def test_staged_milestone_takes_a_whole_number_of_steps(member):
    kr = make_kr(
        member, kind=KeyResult.Kind.MILESTONE, milestone_steps=["Design", "Build", "Launch"], target=3, current=0
    )
    assert submit(member, kr, 0).value == 0
    assert submit(member, kr, 3).value == 3
    for bad in (4, "1.5", -1):
        with pytest.raises(ValidationError) as exc:
            submit(member, kr, bad)
        assert errors_of(exc)["value"] == ["Enter how many of the 3 steps are done: a whole number 0–3."]


@pytest.mark.parametrize("confidence", [11, -1, "5.5", "high"])
def test_confidence_is_a_whole_number_0_to_10(member, confidence):
    kr = make_kr(member)
    with pytest.raises(ValidationError) as exc:
        submit(member, kr, 5, confidence=confidence)
    assert errors_of(exc)["confidence"] == ["Confidence is a whole number from 0 to 10."]


def test_all_field_errors_come_back_together(member):
    kr = make_kr(member)
    with pytest.raises(ValidationError) as exc:
        submit(member, kr, "x", confidence=12, comment="a" * 5000)
    assert set(errors_of(exc)) == {"value", "confidence", "comment"}


def test_draft_kr_cannot_take_check_ins(member):
    kr = make_kr(member, status=KeyResult.Status.DRAFT)
    with pytest.raises(ValidationError) as exc:
        submit(member, kr, 5)
    assert "draft" in errors_of(exc)["__all__"][0]


# --- Permissions --------------------------------------------------------------------------------------------------
def test_member_cannot_check_in_on_someone_elses_kr(member, admin):
    kr = make_kr(admin)
    with pytest.raises(PermissionDenied):
        submit(member, kr, 5)
    assert not CheckIn.objects.exists()


def test_viewer_cannot_check_in_even_on_a_kr_they_own(viewer):
    kr = make_kr(viewer)
    with pytest.raises(PermissionDenied):
        submit(viewer, kr, 5)


def test_kr_of_another_org_is_not_found(member, outsider):
    kr = make_kr(outsider)
    with pytest.raises(Http404):
        submit(member, kr, 5)
    with pytest.raises(Http404):  # even an owner of the other org cannot post it under our org
        services.checkin_submit(org=member.organization, actor=outsider, key_result=kr, value=5)


# --- Weeks and lateness -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("member_tz", "org_tz", "expected_week"),
    [
        ("", "UTC", date(2026, 5, 4)),  # Sunday 23:30 UTC: still last week
        ("Asia/Tokyo", "UTC", date(2026, 5, 11)),  # already Monday 08:30 in Tokyo
        ("", "Asia/Tokyo", date(2026, 5, 11)),  # the org default applies without an override
        ("America/Los_Angeles", "Asia/Tokyo", date(2026, 5, 4)),  # the member's override wins: Sunday 16:30
    ],
)
def test_week_start_uses_the_members_effective_timezone(member, member_tz, org_tz, expected_week):
    org = member.organization
    org.timezone = org_tz
    org.save()
    member.timezone = member_tz
    member.save()
    kr = make_kr(member)
    with time_machine.travel(datetime(2026, 5, 10, 23, 30, tzinfo=UTC), tick=False):
        checkin = submit(member, kr, 5)
    assert checkin.week_start == expected_week
    assert checkin.week_start.weekday() == 0


def test_check_in_after_the_cycle_closed_is_allowed_and_flagged_late(member):
    cycle = make_cycle(member.organization, status=Cycle.Status.CLOSED)
    kr = make_kr(member, cycle=cycle)
    with time_machine.travel(WEDNESDAY, tick=False):
        checkin = submit(member, kr, 5)
    assert checkin.is_late is True
    kr.refresh_from_db()
    assert kr.current == 5


def test_check_in_after_the_cycle_ended_is_late_even_before_it_is_closed(member):
    cycle = make_cycle(member.organization, start=date(2026, 1, 1), end=date(2026, 3, 31))
    kr = make_kr(member, cycle=cycle)
    with time_machine.travel(datetime(2026, 3, 31, 20, 0, tzinfo=UTC), tick=False):
        assert submit(member, kr, 5).is_late is False
    with time_machine.travel(datetime(2026, 4, 1, 9, 0, tzinfo=UTC), tick=False):
        assert submit(member, kr, 6).is_late is True


def test_check_in_on_a_scored_kr_is_late_and_keeps_the_score(member):
    kr = make_kr(member, current=2, target=10)
    objective_close(org=member.organization, actor=member, objective=kr.objective)
    kr.refresh_from_db()
    score = kr.score
    with time_machine.travel(WEDNESDAY, tick=False):  # inside the cycle, but the objective is closed and scored
        checkin = submit(member, kr, 9)
    assert checkin.is_late is True
    kr.refresh_from_db()
    assert kr.current == 9 and kr.score == score == Decimal("0.2")


def test_explicit_now_is_the_checkins_time(member):
    kr = make_kr(member)
    now = datetime(2026, 4, 7, 10, 0, tzinfo=UTC)
    checkin = submit(member, kr, 5, now=now)
    checkin.refresh_from_db()
    assert checkin.created_at == now and checkin.week_start == date(2026, 4, 6)


# --- Initiatives and the whole form -------------------------------------------------------------------------------
def test_initiative_checkin_updates_status_and_progress(member):
    initiative = make_initiative(make_kr(member), owner=member, progress=10)
    services.initiative_checkin(
        org=member.organization, actor=member, initiative=initiative, status="blocked", progress="40"
    )
    initiative.refresh_from_db()
    assert (initiative.status, initiative.progress) == ("blocked", 40)


def test_initiative_checkin_validates_and_checks_the_owner(member, admin):
    initiative = make_initiative(make_kr(member), owner=member)
    with pytest.raises(ValidationError) as exc:
        services.initiative_checkin(
            org=member.organization, actor=member, initiative=initiative, status="nope", progress=101
        )
    assert set(errors_of(exc)) == {"status", "progress"}
    other = make_initiative(make_kr(admin), owner=admin)
    with pytest.raises(PermissionDenied):
        services.initiative_checkin(org=member.organization, actor=member, initiative=other, status="done", progress=1)


def test_submit_many_is_all_or_nothing_with_errors_per_row(member):
    good, bad = make_kr(member, current=1), make_kr(member, current=2)
    initiative = make_initiative(good, owner=member)
    with pytest.raises(services.BatchValidationError) as exc:
        services.checkin_submit_many(
            org=member.organization,
            actor=member,
            checkins=[
                services.CheckinRow(key_result=good, value=3, confidence=5),
                services.CheckinRow(key_result=bad, value="three"),
            ],
            initiatives=[services.InitiativeRow(initiative=initiative, status="done", progress=100)],
        )
    assert exc.value.row_errors == {str(bad.public_id): {"value": ["Enter a number."]}}
    assert not CheckIn.objects.exists()
    good.refresh_from_db()
    initiative.refresh_from_db()
    assert good.current == 1 and initiative.status == Initiative.Status.IN_PROGRESS


def test_submit_many_writes_every_row(member):
    krs = [make_kr(member, current=i) for i in range(3)]
    initiative = make_initiative(krs[0], owner=member)
    result = services.checkin_submit_many(
        org=member.organization,
        actor=member,
        checkins=[services.CheckinRow(key_result=kr, value=10 + i, confidence=8) for i, kr in enumerate(krs)],
        initiatives=[services.InitiativeRow(initiative=initiative, status="done", progress=100)],
    )
    assert len(result.checkins) == 3
    assert sorted(KeyResult.objects.values_list("current", flat=True)) == [10, 11, 12]
    initiative.refresh_from_db()
    assert initiative.status == "done"
