"""Selectors: privacy in one place, page reads with a constant number of queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role, TeamMember
from checkins.models import CheckIn
from objectives import selectors, services
from objectives.board import BoardFilters
from objectives.models import KeyResult
from tests.factories import MembershipFactory, TeamFactory
from tests.factories_okr import CycleFactory, InitiativeFactory, KeyResultFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def private_setup(org, member, viewer, admin, cycle):
    team = TeamFactory(organization=org, name="Growth")
    teammate = MembershipFactory(organization=org, role=Role.MEMBER)
    TeamMember.objects.create(organization=org, team=team, membership=teammate)
    public = ObjectiveFactory(cycle=cycle, owner=member, title="Public")
    private = ObjectiveFactory(cycle=cycle, owner=member, title="Private", visibility="private")
    team_only = ObjectiveFactory(cycle=cycle, owner=member, title="Team only", visibility="team", team=team)
    for o in (public, private, team_only):
        InitiativeFactory(key_result=KeyResultFactory(objective=o))
    return {"team": team, "teammate": teammate, "public": public, "private": private, "team_only": team_only}


def _titles(qs):
    return set(qs.values_list("title", flat=True))


def test_private_and_team_objectives_are_invisible_to_others(org, member, viewer, admin, private_setup):
    assert _titles(selectors.visible_objectives(org, member)) == {"Public", "Private", "Team only"}
    assert _titles(selectors.visible_objectives(org, admin)) == {"Public", "Private", "Team only"}
    assert _titles(selectors.visible_objectives(org, viewer)) == {"Public"}
    assert _titles(selectors.visible_objectives(org, private_setup["teammate"])) == {"Public", "Team only"}
    # KRs and initiatives follow their objective.
    assert selectors.visible_key_results(org, viewer).count() == 1
    assert selectors.visible_initiatives(org, viewer).count() == 1
    assert selectors.visible_initiatives(org, private_setup["teammate"]).count() == 2


def test_private_objective_detail_is_404_and_not_counted(org, viewer, cycle, private_setup):
    with pytest.raises(Http404):
        selectors.objective_get(org=org, membership=viewer, public_id=private_setup["private"].public_id)
    kr = private_setup["private"].key_results.get()
    with pytest.raises(Http404):
        selectors.key_result_get(org=org, membership=viewer, public_id=kr.public_id)
    board = selectors.cycle_board(org=org, membership=viewer, cycle=cycle)
    assert [o["title"] for o in board["objectives"]] == ["Public"]
    assert board["summary"]["objectives"] == 1 and board["summary"]["key_results"] == 1


def test_other_org_objective_is_404(org, member, other_org):
    foreign = ObjectiveFactory(cycle=CycleFactory(organization=other_org))
    with pytest.raises(Http404):
        selectors.objective_get(org=org, membership=member, public_id=foreign.public_id)


def test_cycle_current_prefers_active_covering_today(org):
    today = timezone.now().date()
    CycleFactory(
        organization=org,
        name="Old",
        status="closed",
        start_date=today - timedelta(days=200),
        end_date=today - timedelta(days=110),
    )
    year = CycleFactory(
        organization=org,
        name="Year",
        kind="year",
        start_date=today - timedelta(days=100),
        end_date=today + timedelta(days=200),
    )
    quarter = CycleFactory(
        organization=org, name="Quarter", start_date=today - timedelta(days=10), end_date=today + timedelta(days=80)
    )
    assert selectors.cycle_current(org=org) == quarter
    quarter.status = "planning"
    quarter.save()
    assert selectors.cycle_current(org=org) == year


def test_cycle_board_groups_filters_and_signals(org, member, admin, cycle):
    team = TeamFactory(organization=org, name="Growth")
    company = ObjectiveFactory(cycle=cycle, owner=admin, title="Company goal")
    team_obj = ObjectiveFactory(cycle=cycle, owner=member, title="Team goal", level="team", team=team)
    KeyResultFactory(objective=company, current=50)  # on track-ish, no initiative → no_work
    kr = KeyResultFactory(objective=team_obj, title="Launch the new pricing page", current=0)
    InitiativeFactory(key_result=kr, status="done")
    board = selectors.cycle_board(org=org, membership=member, cycle=cycle)
    assert [g["level"] for g in board["groups"]] == ["company", "team"]
    assert board["groups"][1]["teams"][0]["team"]["name"] == "Growth"
    team_row = next(o for o in board["objectives"] if o["title"] == "Team goal")
    assert {"task_in_disguise", "watermelon"} <= set(team_row["kr_signal_codes"])
    assert team_row["owner"]["initials"]
    assert team_row["key_results"][0]["display"]["target"] == "100"
    assert team_row["status_signal"].code == "off_track" or team_row["status_signal"].code == "at_risk"
    only_team = selectors.cycle_board(org=org, membership=member, cycle=cycle, filters=BoardFilters(team=team))
    assert [o["title"] for o in only_team["objectives"]] == ["Team goal"]
    watermelons = selectors.cycle_board(
        org=org, membership=member, cycle=cycle, filters=BoardFilters(signal="watermelon")
    )
    assert [o["title"] for o in watermelons["objectives"]] == ["Team goal"]
    mine = selectors.cycle_board(org=org, membership=member, cycle=cycle, filters=BoardFilters(owner=admin))
    assert [o["title"] for o in mine["objectives"]] == ["Company goal"]
    team_page = selectors.team_board(org=org, membership=member, team=team, cycle=cycle)
    assert [o["title"] for o in team_page["objectives"]] == ["Team goal"]


def _populate(org, cycle, owner, n):
    for i in range(n):
        o = ObjectiveFactory(
            cycle=cycle, owner=owner, title=f"O{i}", visibility="private" if i % 3 == 0 else "organization"
        )
        kr = KeyResultFactory(objective=o)
        InitiativeFactory(key_result=kr)
        CheckIn.objects.create(organization=org, key_result=kr, author=owner, value=5, week_start=cycle.start_date)


def _count_queries(fn):
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_cycle_board_and_objective_detail_use_constant_queries(org, member, viewer, cycle):
    _populate(org, cycle, member, 10)
    parent = ObjectiveFactory(cycle=cycle, owner=member, title="Parent")
    for _ in range(3):
        child = ObjectiveFactory(cycle=cycle, owner=member, parent_objective=parent)
        KeyResultFactory(objective=child)
    small_board = _count_queries(lambda: selectors.cycle_board(org=org, membership=viewer, cycle=cycle))
    obj = selectors.objective_get(org=org, membership=member, public_id=parent.public_id)
    small_detail = _count_queries(lambda: selectors.objective_detail(org=org, membership=member, objective=obj))
    _populate(org, cycle, member, 200)
    for _ in range(30):
        child = ObjectiveFactory(cycle=cycle, owner=member, parent_objective=parent)
        for _ in range(3):
            InitiativeFactory(key_result=KeyResultFactory(objective=child))
        KeyResultFactory(objective=parent)
    big_board = _count_queries(lambda: selectors.cycle_board(org=org, membership=viewer, cycle=cycle))
    big_detail = _count_queries(lambda: selectors.objective_detail(org=org, membership=member, objective=obj))
    assert small_board == big_board
    assert small_detail == big_detail
    assert big_board <= 6


def test_objective_detail_shows_parent_children_contributions_and_blockers(org, member, viewer, cycle):
    parent = ObjectiveFactory(cycle=cycle, owner=member, title="Parent")
    parent_kr = KeyResultFactory(objective=parent, title="Parent KR")
    me = services.objective_create(org=org, actor=member, cycle=cycle, title="Me", level="company")
    services.objective_set_alignment(org=org, actor=member, objective=me, parent_key_result=parent_kr)
    kr = services.key_result_create(org=org, actor=member, objective=me, title="Unowned KR", target=5)
    InitiativeFactory(key_result=kr, title="Bet")
    ObjectiveFactory(cycle=cycle, owner=member, parent_objective=me, title="Child")
    ObjectiveFactory(cycle=cycle, owner=member, parent_objective=me, title="Secret child", visibility="private")
    other = ObjectiveFactory(cycle=cycle, owner=member, title="Other")
    services.contribution_add(org=org, actor=member, objective=me, key_result=KeyResultFactory(objective=other))
    obj = selectors.objective_get(org=org, membership=viewer, public_id=me.public_id)
    detail = selectors.objective_detail(org=org, membership=viewer, objective=obj)
    assert detail["parent"]["kind"] == "key_result" and detail["parent"]["key_result"]["title"] == "Parent KR"
    assert [c["title"] for c in detail["children"]] == ["Child"]
    assert detail["contributions"][0]["key_result"]["objective"]["title"] == "Other"
    assert detail["key_results"][0]["initiatives"][0]["title"] == "Bet"
    assert detail["publish_blockers"] == ["KR 'Unowned KR' has no owner."]
    assert detail["can_edit"] is False


def test_key_result_detail_lists_revisions_checkins_initiatives(org, member, cycle):
    objective = ObjectiveFactory(cycle=cycle, owner=member)
    kr = KeyResultFactory(objective=objective, owner=member, unit="percent", baseline=34, target=52, current=40)
    services.key_result_update(org=org, actor=member, key_result=kr, target=60, rationale="Better data")
    for value in (36, 38, 40):
        CheckIn.objects.create(organization=org, key_result=kr, author=member, value=value, week_start=cycle.start_date)
    InitiativeFactory(key_result=kr)
    kr = selectors.key_result_get(org=org, membership=member, public_id=kr.public_id)
    with CaptureQueriesContext(connection) as ctx:
        detail = selectors.key_result_detail(org=org, membership=member, key_result=kr)
    assert len(ctx.captured_queries) <= 5
    assert [c["value"] for c in detail["checkins"]] == [40, 38, 36]
    assert detail["checkins"][0]["display"] == "40%"
    assert detail["revisions"][0]["changes"] == {"target": ["52", "60"]}
    assert detail["key_result"]["display"]["target"] == "60%"
    assert len(detail["initiatives"]) == 1
    assert KeyResult.objects.get(pk=kr.pk).target == 60


def test_cycle_list_with_counts_respects_privacy(org, member, viewer, cycle):
    ObjectiveFactory(cycle=cycle, owner=member)
    ObjectiveFactory(cycle=cycle, owner=member, visibility="private")
    ObjectiveFactory(cycle=cycle, owner=member, status="archived")
    counts = {c.name: c.objective_count for c in selectors.cycle_list_with_counts(org=org, membership=viewer)}
    assert counts == {"Q2 2026": 1}
    counts = {c.name: c.objective_count for c in selectors.cycle_list_with_counts(org=org, membership=member)}
    assert counts == {"Q2 2026": 2}


def test_alignment_candidates_exclude_self_private_personal_and_other_cycles(org, member, viewer, cycle):
    me = ObjectiveFactory(cycle=cycle, owner=viewer, title="Me")
    ObjectiveFactory(cycle=cycle, owner=member, title="Mine only", level="personal")
    ObjectiveFactory(cycle=cycle, owner=member, title="Secret", visibility="private")
    ObjectiveFactory(cycle=CycleFactory(organization=org), owner=member, title="Elsewhere")
    ok = ObjectiveFactory(cycle=cycle, owner=member, title="Company")
    KeyResultFactory(objective=ok, title="KR 1")
    candidates = selectors.alignment_candidates(org=org, membership=viewer, objective=me)
    assert [c.title for c in candidates] == ["Company"]
    assert [kr.title for kr in candidates[0].key_results.all()] == ["KR 1"]
