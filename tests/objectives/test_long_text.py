"""Descriptions, hypotheses and retrospectives have a ceiling (okrapp.db.LONG_TEXT_MAX): a script cannot store
megabytes in a row that every list and page reads. Over it: 400 naming the field, nothing written."""

import pytest
from django.core.exceptions import ValidationError

from initiatives.models import Initiative
from objectives.models import Objective
from objectives.services import objective_close
from okrapp.db import LONG_TEXT_MAX
from tests.factories_okr import KeyResultFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db
TOO_LONG = "x" * (LONG_TEXT_MAX + 1)


def test_the_api_refuses_over_long_text_by_field_name(org, admin, cycle, api_client_for):
    api = api_client_for(admin)
    base = f"/api/v1/o/{org.slug}"
    r = api.post(
        f"{base}/objectives",
        {"cycle": str(cycle.public_id), "title": "T", "level": "company", "description": TOO_LONG},
        format="json",
    )
    assert r.status_code == 400 and list(r.json()) == ["description"]
    assert not Objective.objects.exists()
    objective = ObjectiveFactory(organization=org, cycle=cycle, owner=admin)
    kr = KeyResultFactory(objective=objective, owner=admin)
    r = api.patch(f"{base}/key-results/{kr.public_id}", {"description": TOO_LONG}, format="json")
    assert r.status_code == 400 and list(r.json()) == ["description"]
    r = api.post(
        f"{base}/initiatives", {"key_result": str(kr.public_id), "title": "Bet", "hypothesis": TOO_LONG}, format="json"
    )
    assert r.status_code == 400 and list(r.json()) == ["hypothesis"]
    assert not Initiative.objects.exists()
    ok = "y" * LONG_TEXT_MAX
    r = api.patch(f"{base}/objectives/{objective.public_id}", {"description": ok}, format="json")
    assert r.status_code == 200 and r.json()["description"] == ok


def test_a_retrospective_has_the_same_ceiling(org, admin, cycle):
    objective = ObjectiveFactory(organization=org, cycle=cycle, owner=admin, status="active")
    with pytest.raises(ValidationError) as exc:
        objective_close(org=org, actor=admin, objective=objective, retrospective=TOO_LONG)
    assert list(exc.value.message_dict) == ["retrospective"]
    objective.refresh_from_db()
    assert objective.status == "active"
