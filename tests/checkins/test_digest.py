"""Weekly leader digest: recipients, opt-out, contents by team, escalation after two missed weeks, once per week."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from accounts.models import Role, Team, TeamMember
from checkins.digest import digest_build, digests_send_due
from checkins.models import CheckinNudge
from checkins.services import checkin_submit
from tests.checkins.nudge_helpers import make_kr, make_member

MONDAY_8 = datetime(2026, 6, 15, 8, tzinfo=UTC)  # org default digest: Monday 08:00 (UTC org)


def nudged(member, *weeks):
    for w in weeks:
        CheckinNudge.objects.create(
            organization=member.organization,
            membership=member,
            week_start=w,
            kind="nudge",
            sent_at=datetime.combine(w, datetime.min.time(), tzinfo=UTC),
            channels=["email"],
        )


@pytest.fixture
def team_setup(org, admin):
    lead = make_member(org, email="lead@acme.test")
    boss = make_member(org, email="boss@acme.test")
    slacker = make_member(org, email="slacker@acme.test", manager=boss)
    teamless = make_member(org, email="teamless@acme.test")
    team = Team.objects.create(organization=org, name="Growth", lead=lead)
    TeamMember.objects.create(organization=org, team=team, membership=slacker)
    TeamMember.objects.create(organization=org, team=team, membership=teamless)
    return lead, boss, slacker, teamless, team


def test_digest_goes_to_admins_and_leads_once_per_week(org, admin, owner, team_setup, mailoutbox):
    lead, boss, slacker, teamless, team = team_setup
    kr = make_kr(slacker, title="Grow signups to 1000", current=0, target=1000)
    kr.objective.team = team
    kr.objective.save()
    with time_machine.travel(MONDAY_8 - timedelta(hours=1), tick=False):
        assert digests_send_due() == 0  # not yet the hour
    with time_machine.travel(MONDAY_8 + timedelta(minutes=7), tick=False):
        assert digests_send_due() == 3  # owner, admin, lead
        assert digests_send_due() == 0  # the week is claimed: never twice
    with time_machine.travel(MONDAY_8 + timedelta(days=2), tick=False):
        assert digests_send_due() == 0
    assert sorted(m.to[0] for m in mailoutbox) == ["admin@acme.test", "lead@acme.test", "owner@acme.test"]
    assert all("Growth" in m.body and "Grow signups to 1000" in m.body for m in mailoutbox)
    with time_machine.travel(MONDAY_8 + timedelta(days=7, minutes=7), tick=False):
        assert digests_send_due() == 3  # next week


def test_digest_opt_out_is_respected(org, admin, mailoutbox, member):
    admin.digest_opt_out = True
    admin.save()
    make_kr(member)
    with time_machine.travel(MONDAY_8, tick=False):
        digests_send_due()
    assert mailoutbox == []


def test_digest_catches_up_later_in_the_week_if_the_hour_was_missed(org, admin, member, mailoutbox):
    make_kr(member)
    with time_machine.travel(MONDAY_8 + timedelta(days=1, hours=3), tick=False):
        assert digests_send_due() == 1


def test_digest_respects_org_local_digest_day(org, admin, member, mailoutbox):
    org.timezone, org.digest_weekday, org.digest_hour = "Pacific/Auckland", 4, 16  # Friday 16:00 NZ
    org.save()
    make_kr(member)
    with time_machine.travel(datetime(2026, 6, 19, 3, 59, tzinfo=UTC), tick=False):  # Fri 15:59 NZST
        assert digests_send_due() == 0
    with time_machine.travel(datetime(2026, 6, 19, 4, 1, tzinfo=UTC), tick=False):
        assert digests_send_due() == 1


def test_two_missed_weeks_escalate_to_the_manager_or_team_lead(org, admin, team_setup, mailoutbox):
    lead, boss, slacker, teamless, team = team_setup
    w1, w2 = date(2026, 6, 1), date(2026, 6, 8)
    for m in (slacker, teamless):
        make_kr(m, title=f"KR of {m.user.email}")
        nudged(m, w1, w2)
    with time_machine.travel(MONDAY_8, tick=False):
        digest = digest_build(org=org)
    assert [m.user.email for m in digest.missed_twice[boss.pk]] == ["slacker@acme.test"]  # their manager
    assert [m.user.email for m in digest.missed_twice[lead.pk]] == ["teamless@acme.test"]  # no manager: team lead
    assert sorted(digest.sections["Growth"].missed) == sorted([slacker.user.display_name, teamless.user.display_name])
    with time_machine.travel(MONDAY_8, tick=False):
        digests_send_due()
    boss_mail = next(m for m in mailoutbox if m.to == ["boss@acme.test"])
    assert "Missed two check-ins in a row" in boss_mail.body and "slacker@acme.test" in boss_mail.body


def test_one_missed_week_or_a_checkin_does_not_escalate(org, admin, team_setup):
    lead, boss, slacker, teamless, team = team_setup
    w1, w2 = date(2026, 6, 1), date(2026, 6, 8)
    kr = make_kr(slacker)
    nudged(slacker, w1, w2)
    nudged(teamless, w2)
    make_kr(teamless)
    checkin_submit(org=org, actor=slacker, key_result=kr, value=5, now=datetime(2026, 6, 9, 10, tzinfo=UTC))
    with time_machine.travel(MONDAY_8, tick=False):
        digest = digest_build(org=org)
    assert digest.missed_twice == {}


def test_digest_lists_moved_off_track_and_stale(org, admin, member):
    moved = make_kr(member, title="Moved KR", current=10, target=100)
    with time_machine.travel(datetime(2026, 5, 1, tzinfo=UTC)):
        make_kr(member, title="Stuck KR", current=0, target=100)  # created 6 weeks ago, never checked in
    checkin_submit(org=org, actor=member, key_result=moved, value=20, now=datetime(2026, 6, 5, tzinfo=UTC))
    checkin_submit(org=org, actor=member, key_result=moved, value=60, now=datetime(2026, 6, 12, tzinfo=UTC))
    with time_machine.travel(MONDAY_8, tick=False):
        digest = digest_build(org=org)
    section = digest.sections["No team"]
    assert [k.title for k in section.moved] == ["Moved KR"]
    assert section.moved[0].delta == "20% → 60%"
    assert "Stuck KR" in [k.title for k in section.off_track]
    assert "Stuck KR" in [k.title for k in section.stale]


def test_digest_never_mixes_organizations(org, admin, member, other_org, outsider, mailoutbox):
    make_kr(member, title="Acme secret KR")
    make_kr(outsider, title="Globex secret KR")
    with time_machine.travel(MONDAY_8, tick=False):
        digests_send_due()
    by_to = {m.to[0]: m.body for m in mailoutbox}
    assert "Globex secret KR" not in by_to["admin@acme.test"]
    assert "Acme secret KR" not in by_to["owner@globex.test"]


def test_viewer_is_not_a_digest_recipient(org, viewer, member, mailoutbox):
    viewer.role = Role.VIEWER
    make_kr(member)
    with time_machine.travel(MONDAY_8, tick=False):
        assert digests_send_due() == 0
