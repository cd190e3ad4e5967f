"""Lifecycle actions through the API follow the service's rules: an archived objective can't be closed."""

import pytest

from objectives.models import KeyResult, Objective
from tests.factories_okr import KeyResultFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db


def url(org, path):
    return f"/api/v1/o/{org.slug}/{path}"


def test_closing_an_archived_objective_is_refused(org, member, cycle, api_client_for):
    objective = ObjectiveFactory(cycle=cycle, owner=member, status=Objective.Status.ARCHIVED)
    kr = KeyResultFactory(objective=objective, owner=member)
    r = api_client_for(member).post(url(org, f"objectives/{objective.public_id}/close"), {"retrospective": "x"})
    assert r.status_code == 400
    assert r.json() == {"status": ["This objective is archived; an archived objective can't be closed."]}
    objective.refresh_from_db()
    kr.refresh_from_db()
    assert objective.status == "archived" and objective.retrospective == ""
    assert kr.status == KeyResult.Status.ACTIVE and kr.score is None


def test_closing_an_active_objective_still_works(org, member, cycle, api_client_for):
    objective = ObjectiveFactory(cycle=cycle, owner=member)
    KeyResultFactory(objective=objective, owner=member)
    r = api_client_for(member).post(url(org, f"objectives/{objective.public_id}/close"))
    assert r.status_code == 200 and r.json()["status"] == "closed"


def test_the_objective_page_offers_no_lifecycle_action_on_an_archived_objective(org, member, cycle, client_for):
    objective = ObjectiveFactory(cycle=cycle, owner=member, status=Objective.Status.ARCHIVED)
    page = client_for(member).get(f"/o/{org.slug}/objectives/{objective.public_id}/").content.decode()
    assert "/archive/" not in page and "/close/" not in page


# --- Read-only fields a PATCH clearly meant to change -------------------------------------------------------------
def test_patching_a_krs_current_value_says_to_check_in(org, member, cycle, api_client_for):
    kr = KeyResultFactory(objective=ObjectiveFactory(cycle=cycle, owner=member), owner=member, current=50)
    path = url(org, f"key-results/{kr.public_id}")
    api = api_client_for(member)
    r = api.patch(path, {"current": 70, "title": "New title"})
    assert r.status_code == 400
    assert r.json() == {"current": [f"Read-only: record a value with POST {path}/check-ins."]}
    kr.refresh_from_db()
    assert kr.current == 50 and kr.title != "New title"
    # Sending back what GET answered is no change: fine.
    assert api.patch(path, {"current": 50.0, "title": "New title"}).status_code == 200


def test_patching_a_krs_objective_says_krs_do_not_move(org, member, cycle, api_client_for):
    objective = ObjectiveFactory(cycle=cycle, owner=member)
    other = ObjectiveFactory(cycle=cycle, owner=member)
    kr = KeyResultFactory(objective=objective, owner=member)
    api = api_client_for(member)
    path = url(org, f"key-results/{kr.public_id}")
    r = api.patch(path, {"objective": str(other.public_id)})
    assert r.status_code == 400 and list(r.json()) == ["objective"]
    assert "doesn't move between objectives" in r.json()["objective"][0]
    same = api.get(path).json()["objective"]  # {"id", "title"}, as GET shows it
    assert api.patch(path, {"objective": same, "title": "Renamed"}).status_code == 200


def test_patching_an_objectives_status_points_to_the_actions(org, member, cycle, api_client_for):
    objective = ObjectiveFactory(cycle=cycle, owner=member, status=Objective.Status.DRAFT)
    path = url(org, f"objectives/{objective.public_id}")
    r = api_client_for(member).patch(path, {"status": "active"})
    assert r.status_code == 400
    assert r.json() == {"status": [f"Read-only: use POST {path}/publish, {path}/close or {path}/archive to change it."]}
    objective.refresh_from_db()
    assert objective.status == "draft"
    assert api_client_for(member).patch(path, {"status": "draft", "title": "T2"}).status_code == 200


def test_patching_a_cycles_status_points_to_activate(org, admin, cycle, api_client_for):
    path = url(org, f"cycles/{cycle.public_id}")
    r = api_client_for(admin).patch(path, {"status": "closed"})
    assert r.status_code == 400
    assert r.json() == {"status": [f"Read-only: use POST {path}/activate or {path}/close to change it."]}
    cycle.refresh_from_db()
    assert cycle.status == "active"
    assert api_client_for(admin).patch(path, {"status": "active", "name": "Renamed"}).status_code == 200


def test_unknown_fields_are_still_ignored(org, member, cycle, api_client_for):
    objective = ObjectiveFactory(cycle=cycle, owner=member)
    r = api_client_for(member).patch(url(org, f"objectives/{objective.public_id}"), {"colour": "red", "title": "T"})
    assert r.status_code == 200
