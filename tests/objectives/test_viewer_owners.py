"""Viewers cannot check in, so they cannot own objectives, key results or initiatives: services, pickers, the API,
publish (for someone demoted after they were given a KR) and My week (read-only for such a viewer)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import Role
from initiatives.services import initiative_create
from objectives.models import KeyResult, Objective
from objectives.services import key_result_create, objective_create, objective_publish_blockers
from tests.checkins.checkin_helpers import make_kr
from tests.factories_okr import KeyResultFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db
REFUSAL = "Viewers cannot own goals or work: choose a member, or give them the Member role."
HX = {"HTTP_HX_REQUEST": "true"}


def test_services_refuse_a_viewer_as_owner(org, admin, viewer, cycle):
    with pytest.raises(ValidationError) as exc:
        objective_create(org=org, actor=admin, cycle=cycle, title="Grow", level="company", owner=viewer)
    assert exc.value.message_dict == {"owner": [REFUSAL]}
    objective = ObjectiveFactory(organization=org, cycle=cycle, owner=admin)
    with pytest.raises(ValidationError) as exc:
        key_result_create(org=org, actor=admin, objective=objective, title="NPS", target=45, owner=viewer)
    assert exc.value.message_dict == {"owner": [REFUSAL]}
    kr = KeyResultFactory(objective=objective, owner=admin)
    with pytest.raises(ValidationError) as exc:
        initiative_create(org=org, actor=admin, key_result=kr, title="Survey", owner=viewer)
    assert exc.value.message_dict == {"owner": [REFUSAL]}
    assert objective.key_results.count() == 1 and not kr.initiatives.exists()


def test_the_kr_owner_picker_offers_members_only(client_for, org, admin, member, viewer, cycle):
    objective = ObjectiveFactory(organization=org, cycle=cycle, owner=admin)
    html = client_for(admin).get(reverse("objectives:kr_create", args=[org.slug, objective.public_id]), **HX)
    options = html.content.decode()
    assert f'value="{member.pk}"' in options and f'value="{admin.pk}"' in options
    assert f'value="{viewer.pk}"' not in options


def test_the_api_names_the_owner_field(org, admin, viewer, cycle, api_client_for):
    objective = ObjectiveFactory(organization=org, cycle=cycle, owner=admin)
    response = api_client_for(admin).post(
        f"/api/v1/o/{org.slug}/key-results",
        {"objective": str(objective.public_id), "title": "NPS", "target": 45, "owner": str(viewer.public_id)},
        format="json",
    )
    assert response.status_code == 400 and response.json() == {"owner": [REFUSAL]}


def test_publish_is_blocked_when_a_krs_owner_was_demoted_to_viewer(org, admin, member, cycle):
    objective = ObjectiveFactory(organization=org, cycle=cycle, owner=admin, level=Objective.Level.COMPANY)
    KeyResultFactory(objective=objective, owner=member, title="Raise NPS", baseline=31, target=45)
    assert objective_publish_blockers(objective=objective) == []
    member.role = Role.VIEWER
    member.save(update_fields=["role"])
    assert objective_publish_blockers(objective=objective) == [
        "KR 'Raise NPS' is owned by a viewer, who cannot check in."
    ]


def test_my_week_is_read_only_for_a_demoted_viewer(client_for, member):
    make_kr(member, title="Raise NPS")
    html = client_for(member).get(reverse("checkins:my_week", args=[member.organization.slug])).content.decode()
    assert 'data-testid="my-week-read-only"' not in html and "<fieldset disabled" not in html
    member.role = Role.VIEWER
    member.save(update_fields=["role"])
    html = client_for(member).get(reverse("checkins:my_week", args=[member.organization.slug])).content.decode()
    assert "Raise NPS" in html and 'data-testid="my-week-read-only"' in html and "<fieldset disabled" in html


def test_the_objective_pages_publish_panel_names_a_demoted_or_departed_kr_owner(client_for, org, admin, member, cycle):
    objective = ObjectiveFactory(
        organization=org, cycle=cycle, owner=admin, level=Objective.Level.COMPANY, status=Objective.Status.DRAFT
    )
    KeyResultFactory(
        objective=objective, owner=member, title="Raise NPS", baseline=31, target=45, status=KeyResult.Status.DRAFT
    )
    page = reverse("objectives:objective_detail", args=[org.slug, objective.public_id])
    assert "owned by a viewer" not in client_for(admin).get(page).content.decode()
    member.role = Role.VIEWER
    member.save(update_fields=["role"])
    assert (
        "KR &#x27;Raise NPS&#x27; is owned by a viewer, who cannot check in."
        in client_for(admin).get(page).content.decode()
    )
    member.role, member.is_active = Role.MEMBER, False
    member.save(update_fields=["role", "is_active"])
    html = client_for(admin).get(page).content.decode()
    assert "KR &#x27;Raise NPS&#x27; is owned by someone who is no longer a member." in html
