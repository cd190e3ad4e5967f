"""The cycle board's "Blocked" and "Overdue" filters: an objective has them when one of its KRs' initiatives does
(objectives.board.judge, the roll-up in objectives.health_sql), its row shows them as chips, and the objectives API's
`?signal=` filter (which uses the same judge) finds them too."""

from datetime import timedelta

import pytest
from django.urls import reverse

from objectives import assembly, board, selectors
from tests.factories_okr import InitiativeFactory, KeyResultFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def troubled(org, admin, cycle):
    """Objectives with a blocked initiative, an overdue one, one due today, and done/cancelled ones long overdue."""
    today = assembly.Context.for_org(org).today
    objectives = {}
    for title, status, due in (
        ("Blocked goal", "blocked", None),
        ("Overdue goal", "in_progress", today - timedelta(days=1)),
        ("Due today goal", "not_started", today),
        ("Finished goal", "done", today - timedelta(days=30)),
        ("Dropped goal", "cancelled", today - timedelta(days=30)),
    ):
        o = ObjectiveFactory(cycle=cycle, owner=admin, title=title, status="active")
        kr = KeyResultFactory(objective=o, owner=admin, title=f"KR of {title}")
        KeyResultFactory(objective=o, owner=admin, title=f"Quiet KR of {title}")
        InitiativeFactory(key_result=kr, status=status, due_date=due)
        objectives[title] = o
    return objectives


def _judged(org, membership, cycle, signal):
    judged = board.judge(org, membership, cycle=cycle, filters=board.BoardFilters(signal=signal)).objectives
    return {o["pk"] for o in judged}


def test_blocked_and_overdue_filters_match_objectives_by_their_initiatives(org, admin, cycle, troubled):
    assert _judged(org, admin, cycle, "blocked") == {troubled["Blocked goal"].pk}
    assert _judged(org, admin, cycle, "overdue") == {troubled["Overdue goal"].pk}
    # The full assembly (objective pages, selectors.objective_rows) says the same.
    full = {o["pk"]: set(o["signal_codes"]) for o in selectors.objective_rows(org=org, membership=admin, cycle=cycle)}
    lean = {o["pk"]: o["codes"] for o in board.judge(org, admin, cycle=cycle).objectives}
    assert full == lean
    assert "blocked" in full[troubled["Blocked goal"].pk] and "overdue" in full[troubled["Overdue goal"].pk]


def test_overdue_uses_the_orgs_today(org, admin, cycle, troubled):
    # Due yesterday in the org's time zone; whatever UTC says, today's due date is not overdue yet.
    assert troubled["Due today goal"].pk not in _judged(org, admin, cycle, "overdue")


def test_board_page_filters_by_blocked_and_shows_the_chips(client_for, admin, cycle, troubled):
    url = reverse("objectives:cycle_detail", args=[cycle.organization.slug, cycle.public_id])
    page = client_for(admin).get(url, {"signal": "blocked"}).content.decode()
    assert "Blocked goal" in page and "Overdue goal" not in page and "Nothing matches these filters" not in page
    assert 'data-signal="blocked"' in page
    assert "KR “KR of Blocked goal”: 1 initiative is blocked" in page
    page = client_for(admin).get(url, {"signal": "overdue"}).content.decode()
    assert "Overdue goal" in page and "Blocked goal" not in page
    assert 'data-signal="overdue"' in page


def test_blocked_and_overdue_chips_on_every_board_row(org, admin, cycle, troubled):
    data = board.board(org, admin, cycle=cycle)
    chips = {o["title"]: {c["code"] for c in o["chips"]} for o in data["objectives"]}
    assert "blocked" in chips["Blocked goal"] and "overdue" not in chips["Blocked goal"]
    assert "overdue" in chips["Overdue goal"] and "blocked" not in chips["Overdue goal"]
    assert not {"blocked", "overdue"} & (chips["Due today goal"] | chips["Finished goal"] | chips["Dropped goal"])
    assert data["summary"]["signals"]["blocked"] == 1 and data["summary"]["signals"]["overdue"] == 1


def test_objectives_api_filters_by_blocked_and_overdue(org, admin, cycle, troubled, api_client_for):
    api = api_client_for(admin)
    for signal, title in (("blocked", "Blocked goal"), ("overdue", "Overdue goal")):
        r = api.get(f"/api/v1/o/{org.slug}/objectives", {"signal": signal, "cycle": str(cycle.public_id)})
        assert r.status_code == 200, r.json()
        assert [o["title"] for o in r.json()["results"]] == [title]
