"""POST/GET /api/v1/o/<org>/key-results/<id>/check-ins: happy path, validation, roles, other org → 404, paging."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from checkins import services
from checkins.models import CheckIn
from objectives.models import KeyResult, Objective
from tests.checkins.checkin_helpers import make_kr


@pytest.fixture(autouse=True)
def _in_q2():
    with time_machine.travel(datetime(2026, 5, 13, 12, 0, tzinfo=UTC), tick=False):
        yield


def endpoint(org_slug, kr):
    return reverse("api-key-result-checkins-list", kwargs={"org_slug": org_slug, "key_result_id": str(kr.public_id)})


def test_owner_pushes_a_value_and_gets_the_new_progress(api_client_for, member):
    kr = make_kr(member, baseline=0, target=200, current=10)
    response = api_client_for(member).post(
        endpoint("acme", kr), {"value": 50, "confidence": 7, "comment": "from the BI job"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["value"] == 50 and body["confidence"] == 7 and body["comment"] == "from the BI job"
    assert body["key_result"] == str(kr.public_id)
    assert body["author"] == str(member.public_id)
    assert body["is_late"] is False and body["week_start"]
    assert body["key_result_state"]["current"] == 50
    assert body["key_result_state"]["progress"] == 0.25
    kr.refresh_from_db()
    assert kr.current == 50 and kr.confidence == 7


def test_decimal_strings_are_accepted(api_client_for, member):
    kr = make_kr(member)
    response = api_client_for(member).post(endpoint("acme", kr), {"value": "12.3456"}, format="json")
    assert response.status_code == 201
    assert response.json()["value"] == 12.3456


def test_the_api_takes_machine_numbers_only(api_client_for, member):
    """Scripts send JSON numbers or "39.5"; a "39,5" is refused by name, never read as 395 (the page reads it)."""
    kr = make_kr(member, current=7)
    response = api_client_for(member).post(endpoint("acme", kr), {"value": "39,5"}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["value"]
    kr.refresh_from_db()
    assert kr.current == 7


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "value"),
        ({"value": "abc"}, "value"),
        ({"value": 1.234567}, "value"),
        ({"value": 1, "confidence": 11}, "confidence"),
        ({"value": 1, "comment": "x" * 5000}, "comment"),
    ],
)
def test_validation_errors_name_the_field(api_client_for, member, payload, field):
    kr = make_kr(member)
    response = api_client_for(member).post(endpoint("acme", kr), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not CheckIn.objects.exists()


def test_milestone_rules_come_back_as_a_value_error(api_client_for, member):
    kr = make_kr(member, kind=KeyResult.Kind.MILESTONE, milestone_steps=["a", "b", "c"], target=3, current=0)
    response = api_client_for(member).post(endpoint("acme", kr), {"value": 4}, format="json")
    assert response.status_code == 400
    assert response.json() == {"value": ["Enter how many of the 3 steps are done: a whole number 0–3."]}


def test_draft_kr_error_is_a_non_field_error(api_client_for, member):
    kr = make_kr(member, status=KeyResult.Status.DRAFT)
    response = api_client_for(member).post(endpoint("acme", kr), {"value": 4}, format="json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_member_cannot_check_in_on_someone_elses_kr(api_client_for, member, admin):
    kr = make_kr(admin)
    assert api_client_for(member).post(endpoint("acme", kr), {"value": 4}, format="json").status_code == 403
    assert api_client_for(admin).post(endpoint("acme", make_kr(member)), {"value": 4}, format="json").status_code == 201


def test_viewer_can_read_but_not_write(api_client_for, viewer, member):
    kr = make_kr(member)
    client = api_client_for(viewer)
    assert client.get(endpoint("acme", kr)).status_code == 200
    assert client.post(endpoint("acme", kr), {"value": 4}, format="json").status_code == 403


def test_kr_of_another_org_is_404(api_client_for, member, outsider):
    theirs = make_kr(outsider)
    client = api_client_for(member)
    assert client.post(endpoint("acme", theirs), {"value": 4}, format="json").status_code == 404
    assert client.get(endpoint("acme", theirs)).status_code == 404
    # Our token under their org's URL: as if the org did not exist.
    assert client.get(endpoint("globex", make_kr(member))).status_code == 404
    assert not CheckIn.objects.exists()


def test_unknown_or_malformed_kr_id_is_404(api_client_for, member):
    client = api_client_for(member)
    url = reverse(
        "api-key-result-checkins-list",
        kwargs={"org_slug": "acme", "key_result_id": "00000000-0000-0000-0000-000000000000"},
    )
    assert client.get(url).status_code == 404
    assert client.get("/api/v1/o/acme/key-results/------------------------------------/check-ins").status_code == 404


def test_private_kr_is_404_for_members_who_cannot_see_it(api_client_for, member, admin):
    kr = make_kr(admin, visibility=Objective.Visibility.PRIVATE)
    assert api_client_for(member).get(endpoint("acme", kr)).status_code == 404


def test_unauthenticated_requests_are_refused(member):
    kr = make_kr(member)
    assert APIClient().post(endpoint("acme", kr), {"value": 1}, format="json").status_code in (401, 403)
    assert not CheckIn.objects.exists()


def test_history_is_newest_first_and_cursor_paginated(api_client_for, member, django_assert_max_num_queries):
    kr = make_kr(member)
    start = datetime(2026, 4, 6, 9, 0, tzinfo=UTC)
    for i in range(5):
        services.checkin_submit(
            org=member.organization, actor=member, key_result=kr, value=i, now=start + timedelta(days=i)
        )
    client = api_client_for(member)
    with django_assert_max_num_queries(8):
        first = client.get(endpoint("acme", kr), {"page_size": 2}).json()
    assert [row["value"] for row in first["results"]] == [4, 3]
    second = client.get(first["next"]).json()
    assert [row["value"] for row in second["results"]] == [2, 1]
    assert second["results"][0]["author_email"] == member.user.email


def test_schema_documents_the_endpoint(client, admin):
    client.force_login(admin.user)
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()
    operations = schema["paths"]["/api/v1/o/{org_slug}/key-results/{key_result_id}/check-ins"]
    assert set(operations) >= {"get", "post"}
    assert set(operations["post"]["responses"]) >= {"201", "400", "403", "404"}
    params = {p["name"]: p["schema"] for p in operations["post"]["parameters"]}
    assert params["key_result_id"] == {"type": "string", "format": "uuid"}
