"""Board row chips (objectives.board.row_chips): one chip per thing, never the same words twice on a row."""

import pytest
from django.urls import reverse

from objectives import board, health
from tests.factories_okr import InitiativeFactory, KeyResultFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db


def test_focus_chips_say_what_there_is_too_much_of(client_for, org, admin, cycle):
    t = health.DEFAULT_THRESHOLDS
    objectives = [
        ObjectiveFactory(cycle=cycle, owner=admin, title=f"Goal {i}", status="active")
        for i in range(t.focus_objectives + 1)
    ]
    busy = KeyResultFactory(objective=objectives[0], owner=admin, title="Busy KR")
    for _ in range(t.focus_initiatives + 1):
        InitiativeFactory(key_result=busy)
    KeyResultFactory(objective=objectives[1], owner=admin, title="Calm KR")

    rows = {o["title"]: o for o in board.board(org, admin, cycle=cycle)["objectives"]}
    chips = rows["Goal 0"]["chips"]
    labels = [c["label"] for c in chips]
    assert len(labels) == len(set(labels)), labels
    focus = {c["label"]: c for c in chips if c["code"] == "focus"}
    assert set(focus) == {"Too many objectives", "Too many initiatives"}
    assert "objectives this cycle" in focus["Too many objectives"]["reason"]
    assert "KR “Busy KR”" in focus["Too many initiatives"]["reason"]
    assert [c["label"] for c in rows["Goal 1"]["chips"] if c["code"] == "focus"] == ["Too many objectives"]

    page = client_for(admin).get(reverse("objectives:cycle_detail", args=[org.slug, cycle.public_id]))
    assert "Too many objectives" in page.content.decode() and "Too many initiatives" in page.content.decode()


def test_the_api_keeps_the_focus_code_and_label(org, admin, cycle, api_client_for):
    o = ObjectiveFactory(cycle=cycle, owner=admin, title="Crowded", status="active")
    for i in range(health.DEFAULT_THRESHOLDS.focus_key_results + 1):
        KeyResultFactory(objective=o, owner=admin, title=f"KR {i}")
    body = api_client_for(admin).get(f"/api/v1/o/{org.slug}/objectives/{o.public_id}").json()
    focus = [s for s in body["signals"] if s["code"] == "focus"]
    assert [s["label"] for s in focus] == ["Too many"]
