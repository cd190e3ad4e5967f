"""Initiative fragments on the objective and KR pages: add, edit in place, delete (issue 3 §3)."""

import pytest
from django.urls import reverse

from accounts.models import Role
from initiatives.models import Initiative
from tests.factories import MembershipFactory
from tests.factories_okr import CycleFactory, InitiativeFactory, KeyResultFactory, ObjectiveFactory

HX = {"HTTP_HX_REQUEST": "true"}


def url(name, org, *args):
    return reverse(name, args=[org.slug, *args])


@pytest.fixture
def kr(org, admin, member):
    objective = ObjectiveFactory(cycle=CycleFactory(organization=org), owner=admin)
    return KeyResultFactory(objective=objective, owner=member, title="Raise activation from 30 to 50")


@pytest.fixture
def initiative(kr, member):
    return InitiativeFactory(key_result=kr, owner=member, title="Guided setup", progress=10)


@pytest.fixture
def foreign_initiative(outsider):
    objective = ObjectiveFactory(cycle=CycleFactory(organization=outsider.organization), owner=outsider)
    return InitiativeFactory(key_result=KeyResultFactory(objective=objective, owner=outsider))


def test_member_adds_an_initiative_and_the_kr_signals_refresh(client_for, member, kr):
    client = client_for(member)
    path = url("initiatives:initiative_create", kr.organization, kr.public_id)
    form = client.get(path, **HX)
    assert form.status_code == 200 and b'data-testid="initiative-form"' in form.content
    data = {
        "title": "Onboarding emails",
        "hypothesis": "Reminders bring people back.",
        "status": "in_progress",
        "progress": 30,
        "owner": member.pk,
        "due_date": "2026-12-01",
    }
    response = client.post(path, data, **HX)
    assert response.status_code == 200
    assert response["HX-Retarget"] == f"#initiatives-{kr.public_id}"
    body = response.content.decode()
    assert "Onboarding emails" in body
    assert f'id="kr-signals-{kr.public_id}" hx-swap-oob="true"' in body
    assert 'data-signal="no_work"' not in body  # the KR now has work behind it
    initiative = Initiative.objects.get(key_result=kr, title="Onboarding emails")
    assert initiative.owner == member and initiative.progress == 30 and initiative.organization == kr.organization


def test_initiative_create_without_htmx_redirects_to_the_kr_page(client_for, member, kr):
    path = url("initiatives:initiative_create", kr.organization, kr.public_id)
    response = client_for(member).post(path, {"title": "Plain form", "status": "not_started", "progress": 0})
    assert response.status_code == 302
    assert response["Location"] == url("objectives:kr_detail", kr.organization, kr.public_id)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"title": "", "status": "not_started", "progress": 0}, "This field is required."),
        ({"title": "Too much", "status": "not_started", "progress": 150}, "less than or equal to 100"),
        ({"title": "Odd", "status": "someday", "progress": 0}, "Select a valid choice"),
        ({"title": "Late", "status": "not_started", "progress": 0, "due_date": "31/31/2026"}, "Enter a valid date."),
    ],
)
def test_initiative_validation_errors_are_inline(client_for, member, kr, data, error):
    path = url("initiatives:initiative_create", kr.organization, kr.public_id)
    response = client_for(member).post(path, data, **HX)
    assert response.status_code == 422
    assert error in response.content.decode()
    assert not Initiative.objects.filter(key_result=kr).exists()


def test_owner_from_another_org_is_not_a_valid_choice(client_for, member, kr, outsider):
    path = url("initiatives:initiative_create", kr.organization, kr.public_id)
    data = {"title": "Sneaky", "status": "not_started", "progress": 0, "owner": outsider.pk}
    response = client_for(member).post(path, data, **HX)
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()


def test_viewer_cannot_add_initiatives(client_for, viewer, kr):
    path = url("initiatives:initiative_create", kr.organization, kr.public_id)
    assert client_for(viewer).post(path, {"title": "Nope", "status": "not_started", "progress": 0}).status_code == 403


def test_initiative_create_on_other_org_kr_is_404(client_for, member, foreign_initiative):
    path = url("initiatives:initiative_create", member.organization, foreign_initiative.key_result.public_id)
    assert client_for(member).post(path, {"title": "X", "status": "not_started", "progress": 0}).status_code == 404


def test_owner_edits_an_initiative_in_place(client_for, member, initiative):
    client = client_for(member)
    path = url("initiatives:initiative_edit", initiative.organization, initiative.public_id)
    form = client.get(path, **HX)
    assert form.status_code == 200 and f'id="init-{initiative.public_id}"'.encode() in form.content
    data = {"title": "Guided setup v2", "status": "done", "progress": 40, "owner": initiative.owner_id}
    response = client.post(path, data, **HX)
    assert response.status_code == 200
    assert b"Guided setup v2" in response.content
    initiative.refresh_from_db()
    assert initiative.status == Initiative.Status.DONE and initiative.progress == 100  # done means done


def test_initiative_edit_validation_error_is_422(client_for, member, initiative):
    path = url("initiatives:initiative_edit", initiative.organization, initiative.public_id)
    response = client_for(member).post(path, {"title": "X", "status": "done", "progress": -5}, **HX)
    assert response.status_code == 422
    assert "greater than or equal to 0" in response.content.decode()


def test_unrelated_member_cannot_edit_or_delete(client_for, org, initiative):
    stranger = MembershipFactory(organization=org, role=Role.MEMBER)
    client = client_for(stranger)
    assert client.get(url("initiatives:initiative_edit", org, initiative.public_id), **HX).status_code == 403
    assert client.post(url("initiatives:initiative_delete", org, initiative.public_id), **HX).status_code == 403
    assert Initiative.objects.filter(pk=initiative.pk).exists()


def test_viewer_cannot_edit(client_for, viewer, initiative):
    path = url("initiatives:initiative_edit", initiative.organization, initiative.public_id)
    assert client_for(viewer).post(path, {"title": "X", "status": "done", "progress": 1}).status_code == 403


def test_cancel_returns_the_list_and_delete_removes_it(client_for, admin, initiative):
    client = client_for(admin)
    org = initiative.organization
    response = client.get(url("initiatives:initiative_row", org, initiative.public_id), **HX)
    assert response.status_code == 200 and b"Guided setup" in response.content
    response = client.post(url("initiatives:initiative_delete", org, initiative.public_id), **HX)
    assert response.status_code == 200
    assert b"Guided setup" not in response.content
    assert not Initiative.objects.filter(pk=initiative.pk).exists()


def test_initiatives_of_other_org_are_404(client_for, admin, foreign_initiative):
    client = client_for(admin)
    org = admin.organization
    pid = foreign_initiative.public_id
    assert client.get(url("initiatives:initiative_edit", org, pid), **HX).status_code == 404
    assert client.get(url("initiatives:initiative_row", org, pid), **HX).status_code == 404
    assert client.post(url("initiatives:initiative_delete", org, pid), **HX).status_code == 404
    assert Initiative.objects.filter(pk=foreign_initiative.pk).exists()


def test_initiative_list_fragment_query_count_does_not_grow(client_for, admin, kr, initiative):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(admin)
    path = url("initiatives:initiative_row", kr.organization, initiative.public_id)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path, **HX).status_code == 200
        return len(ctx.captured_queries)

    Initiative.objects.bulk_create(
        Initiative(organization=kr.organization, key_result=kr, title=f"A{i}") for i in range(9)
    )
    count()
    small = count()
    Initiative.objects.bulk_create(
        Initiative(organization=kr.organization, key_result=kr, title=f"B{i}") for i in range(990)
    )
    assert count() == small
