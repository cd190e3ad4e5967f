"""Initiative services and selectors: validation with field names, audit, privacy through the objective."""

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from accounts.models import AuditEvent
from initiatives import selectors, services
from initiatives.models import Initiative
from tests.factories_okr import CycleFactory, InitiativeFactory, KeyResultFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def kr(org, member):
    return KeyResultFactory(
        objective=ObjectiveFactory(cycle=CycleFactory(organization=org), owner=member), owner=member
    )


def test_create_defaults_owner_and_audits(org, member, kr):
    initiative = services.initiative_create(org=org, actor=member, key_result=kr, title="  Guided setup ")
    assert initiative.title == "Guided setup" and initiative.owner == member
    assert initiative.status == Initiative.Status.NOT_STARTED
    assert AuditEvent.objects.filter(verb="initiative.created", target_id=str(initiative.public_id)).exists()


def test_validation_names_fields(org, member, kr, outsider):
    for kwargs, field in (
        ({"title": ""}, "title"),
        ({"title": "x", "progress": 150}, "progress"),
        ({"title": "x", "status": "someday"}, "status"),
        ({"title": "x", "owner": outsider}, "owner"),
    ):
        with pytest.raises(ValidationError) as exc:
            services.initiative_create(org=org, actor=member, key_result=kr, **kwargs)
        assert field in exc.value.message_dict, kwargs


def test_update_done_means_full_progress_and_delete(org, member, kr):
    initiative = services.initiative_create(org=org, actor=member, key_result=kr, title="Bet")
    services.initiative_update(org=org, actor=member, initiative=initiative, status="done")
    initiative.refresh_from_db()
    assert initiative.progress == 100
    other_kr = KeyResultFactory(objective=kr.objective)
    services.initiative_update(org=org, actor=member, initiative=initiative, key_result=other_kr)
    assert Initiative.objects.get(pk=initiative.pk).key_result == other_kr
    services.initiative_delete(org=org, actor=member, initiative=initiative)
    assert not Initiative.objects.exists()
    assert AuditEvent.objects.filter(verb="initiative.deleted").exists()


def test_initiative_of_private_objective_is_404_for_others(org, member, viewer):
    private = ObjectiveFactory(cycle=CycleFactory(organization=org), owner=member, visibility="private")
    initiative = InitiativeFactory(key_result=KeyResultFactory(objective=private))
    assert selectors.initiative_get(org=org, membership=member, public_id=initiative.public_id) == initiative
    with pytest.raises(Http404):
        selectors.initiative_get(org=org, membership=viewer, public_id=initiative.public_id)
    assert selectors.initiative_list(org=org, membership=viewer).count() == 0


def test_initiative_of_other_org_is_404(org, member, other_org):
    foreign = InitiativeFactory(
        key_result=KeyResultFactory(objective=ObjectiveFactory(cycle=CycleFactory(organization=other_org)))
    )
    with pytest.raises(Http404):
        selectors.initiative_get(org=org, membership=member, public_id=foreign.public_id)
