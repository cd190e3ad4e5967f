"""What `current` may be when a KR is created or its kind changes: milestone steps are counted in whole steps, a
maintain KR starts from where it stands today, and a change into or out of a milestone starts `current` again."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from objectives.models import KeyResult, Revision
from objectives.services import key_result_create, key_result_update
from tests.factories_okr import KeyResultFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db
K = KeyResult.Kind


def _create(objective, owner, **fields):
    """Create a KR through the service, as `owner` and owned by them."""
    return key_result_create(
        org=objective.organization, actor=owner, objective=objective, owner=owner, **{"title": "KR", **fields}
    )


@pytest.fixture
def objective(org, admin, cycle):
    return ObjectiveFactory(organization=org, cycle=cycle, owner=admin, status="active")


@pytest.mark.parametrize(
    ("steps", "current", "message"),
    [
        (["a", "b"], 9, "A milestone's current value is how many of its 2 steps are done: a whole number 0–2."),
        (
            ["a", "b"],
            Decimal("1.5"),
            "A milestone's current value is how many of its 2 steps are done: a whole number 0–2.",
        ),
        ([], 5, "A milestone without steps is either done (1) or not done (0)."),
        ([], -1, "A milestone without steps is either done (1) or not done (0)."),
    ],
)
def test_a_milestones_current_is_a_whole_number_of_steps(org, admin, objective, steps, current, message):
    with pytest.raises(ValidationError) as exc:
        _create(
            objective,
            admin,
            title="Ship",
            kind=K.MILESTONE,
            milestone_steps=steps,
            target=len(steps) or 1,
            current=current,
        )
    assert exc.value.message_dict == {"current": [message]}
    assert not objective.key_results.exists()
    kr = _create(
        objective, admin, title="Ship", kind=K.MILESTONE, milestone_steps=steps, target=len(steps) or 1, current=1
    )
    assert kr.current == 1


def test_changing_a_live_kr_into_a_milestone_starts_current_again(org, admin, objective):
    kr = KeyResultFactory(objective=objective, owner=admin, status="active", baseline=0, target=100, current=2)
    key_result_update(
        org=org,
        actor=admin,
        key_result=kr,
        kind=K.MILESTONE,
        milestone_steps=["a", "b"],
        target=2,
        rationale="It is a launch, not a metric.",
    )
    kr.refresh_from_db()
    assert kr.current == 0 and kr.progress == 0  # was 2 of 100; read as "2 of 2 steps" it would be 100%
    assert Revision.objects.get(key_result=kr).changes["kind"] == ["increase", "milestone"]
    key_result_update(org=org, actor=admin, key_result=kr, kind=K.INCREASE, target=100, rationale="Back to the metric")
    kr.refresh_from_db()
    assert kr.current == kr.baseline == 0


def test_fewer_steps_cap_the_steps_done(org, admin, objective):
    kr = KeyResultFactory(
        objective=objective,
        owner=admin,
        kind=K.MILESTONE,
        milestone_steps=["a", "b", "c"],
        baseline=0,
        target=3,
        current=3,
    )
    key_result_update(org=org, actor=admin, key_result=kr, milestone_steps=["a", "b"], target=2, rationale="Merged")
    kr.refresh_from_db()
    assert kr.current == 2 and kr.progress == 1


def test_a_maintain_kr_starts_from_where_it_stands_today(org, admin, objective):
    with pytest.raises(ValidationError) as exc:
        _create(objective, admin, title="p95", kind=K.MAINTAIN, band_low=100, band_high=300)
    assert list(exc.value.message_dict) == ["baseline"]
    kr = _create(objective, admin, title="p95", kind=K.MAINTAIN, band_low=100, band_high=300, baseline=180)
    kr.refresh_from_db()
    assert kr.current == 180 and kr.progress == 1  # inside its band, not "0 ms (outside)" at 50%


def test_the_kr_form_asks_a_maintain_kr_where_it_stands(client_for, org, admin, objective):
    path = reverse("objectives:kr_create", args=[org.slug, objective.public_id])
    data = {
        "title": "p95",
        "kind": "maintain",
        "unit": "number",
        "decimals": 0,
        "weight": 1,
        "band_low": 100,
        "band_high": 300,
        "owner": admin.pk,
    }
    response = client_for(admin).post(path, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and "Say where it stands today, e.g. 180." in response.content.decode()
    assert not objective.key_results.exists()
    response = client_for(admin).post(path, {**data, "baseline": 180}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    kr = objective.key_results.get()
    assert (kr.baseline, kr.current, kr.band_low, kr.band_high) == (180, 180, 100, 300)


def test_the_api_names_the_field(org, admin, objective, api_client_for):
    api = api_client_for(admin)
    base = {"objective": str(objective.public_id), "title": "Ship", "owner": str(admin.public_id)}
    r = api.post(
        f"/api/v1/o/{org.slug}/key-results",
        {**base, "kind": "milestone", "milestone_steps": ["a", "b"], "current": 9},
        format="json",
    )
    assert r.status_code == 400 and list(r.json()) == ["current"]
    r = api.post(f"/api/v1/o/{org.slug}/key-results", {**base, "kind": "maintain", "band_high": 300}, format="json")
    assert r.status_code == 400 and list(r.json()) == ["baseline"]
    r = api.post(
        f"/api/v1/o/{org.slug}/key-results",
        {**base, "kind": "maintain", "band_high": 300, "current": 250},
        format="json",
    )
    assert r.status_code == 201 and r.json()["progress"] == 1
