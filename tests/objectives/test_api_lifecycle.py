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
