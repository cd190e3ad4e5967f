"""API: token authentication, members and teams endpoints, tenant isolation."""

import pytest
from rest_framework.test import APIClient

from accounts import services
from accounts.models import ApiToken, Role, Team
from tests.factories import MembershipFactory, TeamFactory

pytestmark = pytest.mark.django_db


def api(org, path=""):
    return f"/api/v1/o/{org.slug}/{path}"


def bearer(secret):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_token_lists_members_of_its_org_only(api_client_for, member, outsider, django_assert_max_num_queries):
    for _ in range(4):
        MembershipFactory(organization=member.organization)
    client = api_client_for(member)
    with django_assert_max_num_queries(6):
        response = client.get(api(member.organization, "members"))
    assert response.status_code == 200
    emails = {row["email"] for row in response.json()["results"]}
    assert member.user.email in emails and outsider.user.email not in emails
    assert len(emails) == 5
    assert {"id", "email", "name", "role", "is_active", "timezone"} <= set(response.json()["results"][0])


def test_missing_bad_or_revoked_token_is_401(member):
    assert APIClient().get(api(member.organization, "members")).status_code in (401, 403)
    assert bearer("okr_deadbeef_nope").get(api(member.organization, "members")).status_code == 401
    token, secret = services.api_token_create(actor=member, name="script")
    client = bearer(secret)
    assert client.get(api(member.organization, "members")).status_code == 200
    services.api_token_revoke(actor=member, token=token)
    response = client.get(api(member.organization, "members"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_of_deactivated_member_is_401(owner, member):
    _, secret = services.api_token_create(actor=member, name="script")
    services.membership_deactivate(actor=owner, membership=member)
    assert bearer(secret).get(api(member.organization, "members")).status_code == 401


def test_token_is_refused_under_another_org_even_when_the_user_belongs_to_both(member, other_org):
    MembershipFactory(organization=other_org, user=member.user, role=Role.OWNER)
    _, secret = services.api_token_create(actor=member, name="acme only")
    client = bearer(secret)
    assert client.get(api(member.organization, "members")).status_code == 200
    response = client.get(api(other_org, "members"))
    assert response.status_code == 404
    # Same body as an org that does not exist at all.
    from accounts.models import Organization

    missing = Organization(slug="no-such-org")
    assert client.get(api(missing, "members")).json() == response.json()


def test_session_user_of_both_orgs_may_use_both(client, member, other_org):
    MembershipFactory(organization=other_org, user=member.user, role=Role.VIEWER)
    client.force_login(member.user)
    assert client.get(api(other_org, "members")).status_code == 200


def test_token_use_updates_last_used(member):
    token, secret = services.api_token_create(actor=member, name="script")
    bearer(secret).get(api(member.organization, "members"))
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_teams_crud_for_admin(api_client_for, admin, member):
    client = api_client_for(admin)
    parent = client.post(api(admin.organization, "teams"), {"name": "Engineering"}, format="json").json()
    response = client.post(
        api(admin.organization, "teams"),
        {"name": "Platform", "parent": parent["id"], "lead": str(member.public_id), "members": []},
        format="json",
    )
    assert response.status_code == 201, response.json()
    team_id = response.json()["id"]
    assert response.json()["parent"] == parent["id"] and response.json()["members"] == [str(member.public_id)]
    response = client.patch(api(admin.organization, f"teams/{team_id}"), {"name": "Platform Core"}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "Platform Core"
    assert response.json()["parent"] == parent["id"]  # PATCH keeps what it does not mention
    assert client.delete(api(admin.organization, f"teams/{team_id}")).status_code == 204
    assert not Team.objects.filter(public_id=team_id).exists()


def test_team_api_validation_errors_name_the_field(api_client_for, admin, outsider):
    client = api_client_for(admin)
    top = TeamFactory(organization=admin.organization, name="Top")
    child = TeamFactory(organization=admin.organization, name="Child", parent=top)
    response = client.patch(api(admin.organization, f"teams/{top.public_id}"), {"parent": str(child.public_id)})
    assert response.status_code == 400 and "parent" in response.json()
    response = client.post(api(admin.organization, "teams"), {"name": "Top"}, format="json")
    assert response.status_code == 400 and "name" in response.json()
    foreign = TeamFactory(organization=outsider.organization)
    response = client.post(
        api(admin.organization, "teams"),
        {"name": "Sneaky", "parent": str(foreign.public_id), "lead": str(outsider.public_id)},
        format="json",
    )
    assert response.status_code == 400 and {"parent", "lead"} <= set(response.json())
    assert client.post(api(admin.organization, "teams"), {}, format="json").json().keys() == {"name"}


def test_member_reads_teams_but_cannot_write(api_client_for, member):
    team = TeamFactory(organization=member.organization)
    client = api_client_for(member)
    assert client.get(api(member.organization, f"teams/{team.public_id}")).status_code == 200
    assert client.post(api(member.organization, "teams"), {"name": "X"}, format="json").status_code == 403
    assert client.delete(api(member.organization, f"teams/{team.public_id}")).status_code == 403


def test_other_orgs_team_and_malformed_ids_are_404(api_client_for, admin, other_org):
    foreign = TeamFactory(organization=other_org)
    client = api_client_for(admin)
    assert client.get(api(admin.organization, f"teams/{foreign.public_id}")).status_code == 404
    assert client.patch(api(admin.organization, f"teams/{foreign.public_id}"), {"name": "x"}).status_code == 404
    assert client.get(api(admin.organization, "teams/not-a-uuid")).status_code == 404
    assert Team.objects.get(pk=foreign.pk).name == foreign.name


def test_a_secret_does_not_work_under_another_tokens_prefix(member):
    # The prefix only finds the row; the whole secret must still match that row's hash.
    token, secret = services.api_token_create(actor=member, name="script")
    other, _ = services.api_token_create(actor=member, name="other")
    forged = f"okr_{other.prefix}_{secret.split('_', 2)[2]}"
    assert bearer(forged).get(api(member.organization, "members")).status_code == 401
    assert ApiToken.objects.filter(pk=token.pk, last_used_at=None).exists()
