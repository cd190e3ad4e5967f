"""Services for organizations, memberships, invitations, teams and API tokens, tested against the database."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from accounts import services
from accounts.models import ApiToken, AuditEvent, Invitation, Membership, Organization, Role
from accounts.tokens import hash_secret
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


# --- Organizations ------------------------------------------------------------------------------------------------
def test_organization_create_makes_creator_owner_and_slugs_stay_unique():
    user = UserFactory()
    first = services.organization_create(user=user, name="Acme Corp")
    second = services.organization_create(user=UserFactory(), name="Acme  Corp!")
    assert (first.slug, second.slug) == ("acme-corp", "acme-corp-2")
    membership = Membership.objects.get(organization=first, user=user)
    assert membership.role == Role.OWNER and membership.is_active
    assert AuditEvent.objects.filter(organization=first, actor=user, verb="organization.created").exists()


def test_organization_create_avoids_reserved_slugs_and_needs_a_name():
    org = services.organization_create(user=UserFactory(), name="API")
    assert org.slug == "api-org"
    with pytest.raises(ValidationError) as exc:
        services.organization_create(user=UserFactory(), name="   ")
    assert "name" in exc.value.message_dict
    assert not Organization.objects.filter(name="").exists()


# --- Invitations --------------------------------------------------------------------------------------------------
def test_invitation_send_enqueues_one_email_with_a_working_link(admin, run_on_commit):
    with run_on_commit() as run:
        invitation, token = services.invitation_send(actor=admin, email=" New@Example.com ", role=Role.MEMBER)
    assert run.enqueued == [("accounts.send_invitation_email", (admin.organization_id, invitation.id, token))]
    assert invitation.email == "new@example.com"
    assert invitation.token_hash == hash_secret(token) and token not in invitation.token_hash
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new@example.com"]
    assert f"/invitations/{token}/" in message.body
    assert "Acme" in message.subject
    invitation.refresh_from_db()
    assert invitation.email_sent_at is not None


def test_invitation_email_task_is_idempotent(admin):
    from accounts.tasks import send_invitation_email

    invitation, token = services.invitation_send(actor=admin, email="x@example.com", role=Role.MEMBER)
    send_invitation_email(admin.organization_id, invitation.id, token)
    send_invitation_email(admin.organization_id, invitation.id, token)  # a redelivered message
    assert len(mail.outbox) == 1


def test_invitation_email_task_sends_nothing_for_withdrawn_or_unknown_or_mismatched(admin, other_org):
    from accounts.tasks import send_invitation_email

    invitation, token = services.invitation_send(actor=admin, email="x@example.com", role=Role.MEMBER)
    send_invitation_email(other_org.id, invitation.id, token)  # wrong org: not found
    send_invitation_email(admin.organization_id, invitation.id, "forged-token")
    send_invitation_email(admin.organization_id, 10**9, token)
    services.invitation_revoke(actor=admin, invitation=invitation)
    send_invitation_email(admin.organization_id, invitation.id, token)
    assert mail.outbox == []


def test_invitation_cannot_exceed_the_inviters_role(admin):
    with pytest.raises(ValidationError) as exc:
        services.invitation_send(actor=admin, email="boss@example.com", role=Role.OWNER)
    assert "role" in exc.value.message_dict


def test_reinviting_an_active_member_is_refused_with_a_clear_message(admin, member):
    with pytest.raises(ValidationError) as exc:
        services.invitation_send(actor=admin, email=member.user.email.upper(), role=Role.MEMBER)
    assert exc.value.message_dict["email"] == [f"{member.user.email} is already a member of Acme."]
    assert not Invitation.objects.exists()


def test_a_new_invitation_replaces_the_pending_one(admin):
    old, old_token = services.invitation_send(actor=admin, email="x@example.com", role=Role.VIEWER)
    services.invitation_send(actor=admin, email="x@example.com", role=Role.MEMBER)
    old.refresh_from_db()
    assert old.revoked_at is not None
    assert "withdrawn" in services.invitation_problem(services.invitation_get_by_token(token=old_token))


def test_invitation_accept_works_once(admin):
    invitation, token = services.invitation_send(actor=admin, email="new@example.com", role=Role.ADMIN)
    user = UserFactory(email="new@example.com")
    membership = services.invitation_accept(token=token, user=user)
    assert (membership.organization_id, membership.role) == (admin.organization_id, Role.ADMIN)
    invitation.refresh_from_db()
    assert invitation.accepted_by == user and invitation.accepted_at is not None
    with pytest.raises(ValidationError, match="already been used"):
        services.invitation_accept(token=token, user=UserFactory())
    assert Membership.objects.filter(organization=admin.organization).count() == 2


def test_invitation_expires_after_seven_days(admin):
    _, token = services.invitation_send(actor=admin, email="late@example.com", role=Role.MEMBER)
    with time_machine.travel(timezone.now() + timedelta(days=6, hours=23)):
        assert services.invitation_problem(services.invitation_get_by_token(token=token)) is None
    later = timezone.now() + timedelta(days=7, seconds=1)
    with time_machine.travel(later), pytest.raises(ValidationError, match="expired"):
        services.invitation_accept(token=token, user=UserFactory())
    assert not Membership.objects.filter(user__email="late@example.com").exists()


@pytest.mark.parametrize("token", ["", "x" * 101, "not-a-real-token", "../../etc/passwd"])
def test_unknown_or_malformed_invitation_tokens_are_refused(token):
    assert services.invitation_get_by_token(token=token) is None
    with pytest.raises(ValidationError, match="not valid"):
        services.invitation_accept(token=token, user=UserFactory())


def test_accepting_reactivates_a_deactivated_member_with_the_invited_role(owner, member):
    services.membership_deactivate(actor=owner, membership=member)
    _, token = services.invitation_send(actor=owner, email=member.user.email, role=Role.VIEWER)
    services.invitation_accept(token=token, user=member.user)
    member.refresh_from_db()
    assert member.is_active and member.role == Role.VIEWER


# --- Memberships --------------------------------------------------------------------------------------------------
def test_last_owner_can_never_be_demoted_or_removed(owner):
    with pytest.raises(ValidationError, match="last owner"):
        services.membership_change_role(actor=owner, membership=owner, role=Role.ADMIN)
    with pytest.raises(ValidationError, match="last owner"):
        services.membership_deactivate(actor=owner, membership=owner)
    owner.refresh_from_db()
    assert owner.role == Role.OWNER and owner.is_active


def test_an_inactive_owner_does_not_count_as_a_remaining_owner(owner):
    second = MembershipFactory(organization=owner.organization, role=Role.OWNER)
    services.membership_deactivate(actor=owner, membership=second)
    with pytest.raises(ValidationError, match="last owner"):
        services.membership_change_role(actor=owner, membership=owner, role=Role.MEMBER)


def test_owner_can_step_down_when_another_owner_exists(owner):
    second = MembershipFactory(organization=owner.organization, role=Role.OWNER)
    services.membership_change_role(actor=second, membership=owner, role=Role.ADMIN)
    owner.refresh_from_db()
    assert owner.role == Role.ADMIN


def test_only_owners_grant_or_remove_owner(owner, admin, member):
    with pytest.raises(ValidationError, match="Only an owner"):
        services.membership_change_role(actor=admin, membership=member, role=Role.OWNER)
    with pytest.raises(ValidationError, match="Only an owner"):
        services.membership_deactivate(actor=admin, membership=owner)
    services.membership_change_role(actor=admin, membership=member, role=Role.VIEWER)
    member.refresh_from_db()
    assert member.role == Role.VIEWER


def test_admin_cannot_reactivate_an_owner(owner, admin):
    second = MembershipFactory(organization=owner.organization, role=Role.OWNER)
    services.membership_deactivate(actor=owner, membership=second)
    with pytest.raises(ValidationError, match="Only an owner"):
        services.membership_reactivate(actor=admin, membership=second)
    services.membership_reactivate(actor=owner, membership=second)
    second.refresh_from_db()
    assert second.is_active


def test_deactivation_revokes_the_members_api_tokens(owner, member):
    token, _ = services.api_token_create(actor=member, name="script")
    services.membership_deactivate(actor=owner, membership=member)
    token.refresh_from_db()
    assert token.revoked_at is not None


@pytest.mark.django_db(transaction=True)
def test_two_owners_stepping_down_at_once_cannot_remove_the_last_owner(org):
    # Each request loads its own rows, as a view would; without the row locks both would see "one owner left".
    a = MembershipFactory(organization=org, role=Role.OWNER)
    b = MembershipFactory(organization=org, role=Role.OWNER)
    first_has_demoted, errors = threading.Event(), []

    def demote_a_and_hold_the_transaction():
        from django.db import transaction

        try:
            with transaction.atomic():
                me = Membership.objects.get(pk=a.pk)
                services.membership_change_role(actor=me, membership=me, role=Role.ADMIN)
                first_has_demoted.set()
                # Keep the transaction (and its locks) open while the other request runs its check.
                threading.Event().wait(1.0)
        finally:
            connection.close()

    def demote_b():
        first_has_demoted.wait(10)
        try:
            me = Membership.objects.get(pk=b.pk)
            services.membership_change_role(actor=me, membership=me, role=Role.ADMIN)
        except ValidationError as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=demote_a_and_hold_the_transaction), threading.Thread(target=demote_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert len(errors) == 1 and "last owner" in str(errors[0])
    roles = sorted(Membership.objects.filter(organization=org).values_list("role", flat=True))
    assert roles == [Role.ADMIN, Role.OWNER]


def test_preferences_are_validated(member):
    services.membership_update_preferences(
        membership=member, timezone="Europe/Berlin", checkin_weekday=4, checkin_hour=16
    )
    member.refresh_from_db()
    assert (member.effective_timezone, member.effective_checkin_weekday, member.effective_checkin_hour) == (
        "Europe/Berlin",
        4,
        16,
    )
    with pytest.raises(ValidationError):
        services.membership_update_preferences(membership=member, timezone="Mars/Olympus")


# --- Teams ----------------------------------------------------------------------------------------------------------
def test_team_save_sets_parent_lead_and_members(admin, member, viewer):
    parent = services.team_save(actor=admin, name="Engineering")
    team = services.team_save(actor=admin, name="Platform", parent=parent, lead=member, members=[viewer])
    assert set(team.members.all()) == {member, viewer}  # the lead is always a member
    team = services.team_save(actor=admin, team=team, name="Platform Core", parent=parent, lead=None, members=[])
    team.refresh_from_db()
    assert team.name == "Platform Core" and team.members.count() == 0


def test_team_parent_cycle_is_refused(admin):
    top = services.team_save(actor=admin, name="Top")
    middle = services.team_save(actor=admin, name="Middle", parent=top)
    with pytest.raises(ValidationError) as exc:
        services.team_save(actor=admin, team=top, name="Top", parent=middle)
    assert "parent" in exc.value.message_dict
    top.refresh_from_db()
    assert top.parent is None


def test_team_names_are_unique_per_org(admin, outsider):
    services.team_save(actor=admin, name="Growth")
    with pytest.raises(ValidationError) as exc:
        services.team_save(actor=admin, name="Growth")
    assert "already exists" in exc.value.message_dict["name"][0]
    services.team_save(actor=outsider, name="Growth")  # another org may reuse the name


def test_team_save_refuses_related_rows_of_another_org(admin, other_org):
    foreign_team = TeamFactory(organization=other_org)
    with pytest.raises(AssertionError):
        services.team_save(actor=admin, name="Sneaky", parent=foreign_team)


# --- API tokens -----------------------------------------------------------------------------------------------------
def test_api_token_is_stored_hashed_and_authenticates(member):
    token, secret = services.api_token_create(actor=member, name="BI import")
    assert secret.startswith(f"okr_{token.prefix}_")
    assert token.token_hash == hash_secret(secret)
    assert secret not in {token.token_hash, token.prefix, token.name}
    assert services.api_token_authenticate(secret=secret) == token
    assert services.api_token_authenticate(secret=secret + "x") is None
    assert services.api_token_authenticate(secret="okr_nope_nope") is None


def test_api_token_prefixes_never_contain_the_separator(member):
    # The prefix is parsed up to the first "_"; a prefix containing one would make the token unusable.
    for i in range(40):
        _, secret = services.api_token_create(actor=member, name=f"t{i}")
        assert services.api_token_authenticate(secret=secret) is not None


def test_api_token_last_used_is_recorded_at_most_once_a_minute(member):
    token, secret = services.api_token_create(actor=member, name="script")
    assert token.last_used_at is None
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        services.api_token_authenticate(secret=secret)
    token.refresh_from_db()
    assert token.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        services.api_token_authenticate(secret=secret)
    token.refresh_from_db()
    assert token.last_used_at == start
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        services.api_token_authenticate(secret=secret)
    token.refresh_from_db()
    assert token.last_used_at == start + timedelta(minutes=2)


def test_revoked_token_no_longer_authenticates(member):
    token, secret = services.api_token_create(actor=member, name="script")
    services.api_token_revoke(actor=member, token=token)
    assert services.api_token_authenticate(secret=secret) is None
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    with pytest.raises(ValidationError):
        services.api_token_create(actor=member, name="  ")
