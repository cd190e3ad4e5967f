"""Pages: organization creation and switching, invitations, people, teams, personal settings, API tokens, audit."""

import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.adapters import PENDING_INVITATION_SESSION_KEY
from accounts.models import ApiToken, AuditEvent, Invitation, Membership, Role, Team, User
from accounts.tokens import hash_secret
from tests.checkins.checkin_helpers import make_initiative, make_kr
from tests.factories import MembershipFactory, TeamFactory, UserFactory, verified_email

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory


def url(name, org, *args):
    return reverse(f"accounts:{name}", args=[org.slug, *args])


def invite_link_from_mail() -> str:
    body = mail.outbox[-1].body
    return re.search(r"https?://[^/\s]+(/invitations/[^/\s]+/)", body).group(1)


# --- Organizations and the switcher -------------------------------------------------------------------------------
def test_new_user_without_org_is_sent_to_create_one_and_becomes_owner(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get(reverse("home")).url == reverse("organization_create")
    page = client.get(reverse("organization_create"))
    assert b"Create your organization" in page.content
    response = client.post(reverse("organization_create"), {"name": "Initech", "timezone": "Europe/Berlin"})
    membership = Membership.objects.get(user=user)
    assert response.status_code == 302 and response.url == url("dashboard", membership.organization)
    assert (membership.organization.slug, membership.role) == ("initech", Role.OWNER)


def test_organization_create_form_errors_are_inline(client):
    client.force_login(UserFactory())
    response = client.post(reverse("organization_create"), {"name": "", "timezone": "Nowhere/Else"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"name", "timezone"}
    assert b"errorlist" in response.content


def test_org_switcher_lists_only_my_organizations_and_home_remembers_the_last(client, member, other_org):
    third = MembershipFactory(user=member.user, role=Role.VIEWER).organization
    client.force_login(member.user)
    page = client.get(url("dashboard", third))
    switcher = page.content.decode().split('data-testid="org-switcher"')[1].split("</details>")[0]
    assert "Acme" in switcher and third.name in switcher and "Globex" not in switcher
    assert client.get(reverse("home")).url == url("dashboard", third)
    client.get(url("dashboard", member.organization))
    assert client.get(reverse("home")).url == url("dashboard", member.organization)


def test_pages_need_login(client, org):
    response = client.get(url("members", org))
    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))


# --- Invitations --------------------------------------------------------------------------------------------------
def test_admin_invites_by_email_and_the_mail_carries_the_link(client_for, admin, run_on_commit):
    client = client_for(admin)
    with run_on_commit():
        response = client.post(url("invitation_create", admin.organization), {"email": "new@x.test", "role": 20})
    assert response.status_code == 302
    invitation = Invitation.objects.get(email="new@x.test")
    assert invitation.role == Role.MEMBER and invitation.email_sent_at is not None
    link = invite_link_from_mail()
    assert Invitation.objects.get(token_hash=hash_secret(link.split("/")[2])) == invitation
    assert b"new@x.test" in client.get(url("members", admin.organization)).content  # listed as pending


def test_member_cannot_invite(client_for, member):
    response = client_for(member).post(url("invitation_create", member.organization), {"email": "a@x.test", "role": 20})
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_invite_form_errors_are_shown_inline_with_422(client_for, admin, member):
    client = client_for(admin)
    response = client.post(url("invitation_create", admin.organization), {"email": "not-an-email", "role": 20})
    assert response.status_code == 422 and "email" in response.context["invite_form"].errors
    # Re-inviting an existing member: a clear message, no invitation.
    response = client.post(url("invitation_create", admin.organization), {"email": member.user.email, "role": 20})
    assert response.status_code == 422
    assert f"{member.user.email} is already a member of Acme." in response.content.decode()
    # An ADMIN cannot pick OWNER: it is not among the choices.
    response = client.post(url("invitation_create", admin.organization), {"email": "b@x.test", "role": 40})
    assert response.status_code == 422 and "role" in response.context["invite_form"].errors
    assert not Invitation.objects.exists()


def test_invite_via_htmx_returns_the_fragment(client_for, admin):
    client = client_for(admin)
    response = client.post(
        url("invitation_create", admin.organization), {"email": "bad", "role": 20}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert response.templates[0].name == "accounts/_invite_form.html"


def test_logged_in_user_accepts_an_invitation(client, admin):
    _, token = services.invitation_send(actor=admin, email="joiner@x.test", role=Role.MEMBER)
    joiner = UserFactory(email="joiner@x.test")
    client.force_login(joiner)
    link = reverse("invitation_accept", args=[token])
    page = client.get(link)
    assert page.status_code == 200 and b"Join Acme" in page.content
    response = client.post(link)
    assert response.status_code == 302 and response.url == url("dashboard", admin.organization)
    assert Membership.objects.get(user=joiner, organization=admin.organization).role == Role.MEMBER
    # Works once: the same link now explains itself with a 404.
    again = client.post(link)
    assert again.status_code == 404 and b"already been used" in again.content


def test_logged_out_invitee_signs_up_and_lands_in_the_org(client, admin):
    _, token = services.invitation_send(actor=admin, email="fresh@x.test", role=Role.VIEWER)
    link = reverse("invitation_accept", args=[token])
    landing = client.get(link)
    assert landing.status_code == 200 and b"Create account" in landing.content
    assert client.session[PENDING_INVITATION_SESSION_KEY] == token
    signup = client.post(
        reverse("account_signup"),
        {"email": "fresh@x.test", "password1": "A-long-pass-phrase-9", "password2": "A-long-pass-phrase-9"},
    )
    # The invited address is proven by the link, so no second verification round trip; back to the invitation.
    assert signup.status_code == 302 and signup.url == link
    assert client.get(link).status_code == 200
    joined = client.post(link)
    assert joined.url == url("dashboard", admin.organization)
    membership = Membership.objects.get(user__email="fresh@x.test")
    assert (membership.organization, membership.role) == (admin.organization, Role.VIEWER)
    assert client.get(joined.url).status_code == 200


def test_sign_up_asks_for_a_name_and_the_welcome_mail_is_branded(client):
    page = client.get(reverse("account_signup")).content.decode()
    assert 'name="name"' in page and "Your name (shown to your team)" in page
    client.post(
        reverse("account_signup"),
        {
            "name": "  Ada Lovelace ",
            "email": "ada@y.test",
            "password1": "A-long-pass-phrase-9",
            "password2": "A-long-pass-phrase-9",
        },
    )
    user = User.objects.get(email="ada@y.test")
    assert user.name == "Ada Lovelace" and user.display_name == "Ada Lovelace"
    body = mail.outbox[-1].body
    assert body.startswith("Hello from okrapp!") and "Thank you for using okrapp." in body
    assert "Hello from testserver" not in body


def test_logged_out_invitee_with_another_address_verifies_email_then_resumes_the_invitation(client, admin):
    _, token = services.invitation_send(actor=admin, email="work@x.test", role=Role.MEMBER)
    link = reverse("invitation_accept", args=[token])
    client.get(link)
    signup = client.post(
        reverse("account_signup"),
        {"email": "private@y.test", "password1": "A-long-pass-phrase-9", "password2": "A-long-pass-phrase-9"},
    )
    assert signup.status_code == 302 and "confirm" in signup.url  # verification is mandatory with DEBUG off
    confirm_path = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^/\s]+/)", mail.outbox[-1].body).group(1)
    confirmed = client.post(confirm_path)
    assert confirmed.status_code == 302
    # Whatever allauth redirects to, the home page resumes the pending invitation.
    assert client.get(reverse("home")).url == link
    assert client.post(link).url == url("dashboard", admin.organization)


def test_logged_out_invitee_with_an_account_logs_in_and_returns_to_the_invitation(client, admin):
    existing = UserFactory(email="old@x.test")
    verified_email(existing)
    _, token = services.invitation_send(actor=admin, email="old@x.test", role=Role.MEMBER)
    link = reverse("invitation_accept", args=[token])
    client.get(link)
    response = client.post(reverse("account_login"), {"login": "old@x.test", "password": PASSWORD})
    assert response.status_code == 302 and response.url == link


def test_expired_invitation_link_shows_a_clear_404(client, admin):
    _, token = services.invitation_send(actor=admin, email="late@x.test", role=Role.MEMBER)
    with time_machine.travel(timezone.now() + timezone.timedelta(days=7, minutes=1)):
        response = client.get(reverse("invitation_accept", args=[token]))
    assert response.status_code == 404
    assert b"expired" in response.content and b"invitation-problem" in response.content


@pytest.mark.parametrize("token", ["garbage", "A" * 40, "x" * 300])
def test_tampered_or_unknown_invitation_link_is_a_clear_404(client, admin, token):
    _, real = services.invitation_send(actor=admin, email="x@x.test", role=Role.MEMBER)
    response = client.get(reverse("invitation_accept", args=[token]))
    assert response.status_code == 404 and b"not valid" in response.content
    tampered = real[:-2] + ("AA" if not real.endswith("AA") else "BB")
    assert client.get(reverse("invitation_accept", args=[tampered])).status_code == 404


def test_admin_withdraws_an_invitation(client_for, admin):
    invitation, token = services.invitation_send(actor=admin, email="x@x.test", role=Role.MEMBER)
    client = client_for(admin)
    client.post(url("invitation_revoke", admin.organization, invitation.public_id))
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    client.logout()
    assert b"withdrawn" in client.get(reverse("invitation_accept", args=[token])).content


# --- People ---------------------------------------------------------------------------------------------------------
def test_members_page_lists_people_of_this_org_only(client_for, member, admin, outsider, django_assert_max_num_queries):
    for _ in range(5):
        MembershipFactory(organization=member.organization)
    client = client_for(member)
    with django_assert_max_num_queries(12):  # constant: no per-row queries
        page = client.get(url("members", member.organization))
    content = page.content.decode()
    assert admin.user.email in content and outsider.user.email not in content
    assert "Send invitation" not in content  # members cannot manage


def test_admin_changes_a_role_and_member_cannot(client_for, admin, member, viewer):
    response = client_for(member).post(url("member_role", member.organization, viewer.public_id), {"role": 30})
    assert response.status_code == 403
    response = client_for(admin).post(url("member_role", admin.organization, viewer.public_id), {"role": 20})
    assert response.status_code == 302
    viewer.refresh_from_db()
    assert viewer.role == Role.MEMBER


def test_demoting_or_removing_an_owner_of_live_work_says_what_to_hand_over(client_for, admin, member):
    kr = make_kr(member)
    make_initiative(kr, owner=member)
    make_kr(member, status="closed")  # scored already: nothing to hand over
    client = client_for(admin)
    response = client.post(url("member_role", admin.organization, member.public_id), {"role": 10}, follow=True)
    expected = "still owns 1 live key result and 1 open initiative but can no longer check in"
    assert expected in response.content.decode()
    client.post(url("member_role", admin.organization, member.public_id), {"role": 20})
    response = client.post(url("member_deactivate", admin.organization, member.public_id), follow=True)
    assert expected in response.content.decode()


def test_demoting_someone_who_owns_nothing_live_says_nothing_more(client_for, admin, member):
    response = client_for(admin).post(
        url("member_role", admin.organization, member.public_id), {"role": 10}, follow=True
    )
    assert "is now Viewer" in response.content.decode() and "still owns" not in response.content.decode()


def test_last_owner_demotion_and_removal_show_a_message(client_for, owner):
    client = client_for(owner)
    response = client.post(url("member_role", owner.organization, owner.public_id), {"role": 30}, follow=True)
    assert "The last owner cannot be demoted" in response.content.decode()
    response = client.post(url("member_deactivate", owner.organization, owner.public_id), follow=True)
    assert "The last owner cannot be removed" in response.content.decode()
    owner.refresh_from_db()
    assert owner.role == Role.OWNER and owner.is_active


def test_invalid_role_value_is_a_message_not_a_500(client_for, admin, member):
    response = client_for(admin).post(
        url("member_role", admin.organization, member.public_id), {"role": 99}, follow=True
    )
    assert response.status_code == 200 and "Choose a valid role" in response.content.decode()


def test_admin_deactivates_and_the_member_loses_access(client, admin, member):
    client.force_login(admin.user)
    client.post(url("member_deactivate", admin.organization, member.public_id))
    member.refresh_from_db()
    assert not member.is_active
    client.force_login(member.user)
    assert client.get(url("dashboard", member.organization)).status_code == 404
    client.force_login(admin.user)
    client.post(url("member_reactivate", admin.organization, member.public_id))
    member.refresh_from_db()
    assert member.is_active


# --- Teams ----------------------------------------------------------------------------------------------------------
def test_admin_creates_team_with_parent_lead_and_members(client_for, admin, member, viewer):
    parent = TeamFactory(organization=admin.organization, name="Engineering")
    data = {"name": "Platform", "parent": parent.pk, "lead": member.pk, "members": [viewer.pk]}
    response = client_for(admin).post(url("team_create", admin.organization), data)
    team = Team.objects.get(name="Platform")
    assert response.url == url("team_detail", admin.organization, team.public_id)
    assert team.parent == parent and team.lead == member
    assert set(team.members.all()) == {member, viewer}


def test_team_rename_and_cycle_is_a_form_error(client_for, admin):
    top = TeamFactory(organization=admin.organization, name="Top")
    child = TeamFactory(organization=admin.organization, name="Child", parent=top)
    client = client_for(admin)
    response = client.post(url("team_detail", admin.organization, top.public_id), {"name": "Top", "parent": child.pk})
    assert response.status_code == 422
    assert "parent" in response.context["form"].errors
    response = client.post(url("team_detail", admin.organization, top.public_id), {"name": "Company"})
    assert response.status_code == 302
    top.refresh_from_db()
    assert top.name == "Company" and top.parent is None


def test_team_form_refuses_ids_from_another_org(client_for, admin, outsider):
    foreign_team = TeamFactory(organization=outsider.organization)
    data = {"name": "Sneaky", "parent": foreign_team.pk, "lead": outsider.pk, "members": [outsider.pk]}
    response = client_for(admin).post(url("team_create", admin.organization), data)
    assert response.status_code == 422
    assert set(response.context["form"].errors) == {"parent", "lead", "members"}
    assert not Team.objects.filter(name="Sneaky").exists()


def test_member_cannot_create_or_edit_teams_but_the_lead_can(client_for, member, viewer):
    team = TeamFactory(organization=member.organization, name="Growth")
    client = client_for(viewer)
    assert client.post(url("team_create", viewer.organization), {"name": "X"}).status_code == 403
    assert client.post(url("team_detail", viewer.organization, team.public_id), {"name": "Y"}).status_code == 403
    team.lead = member
    team.save()
    response = client_for(member).post(url("team_detail", member.organization, team.public_id), {"name": "Growth 2"})
    assert response.status_code == 302


def test_duplicate_team_name_is_a_form_error(client_for, admin):
    TeamFactory(organization=admin.organization, name="Growth")
    response = client_for(admin).post(url("team_create", admin.organization), {"name": "Growth"})
    assert response.status_code == 422 and "already exists" in response.content.decode()


# --- Personal settings -----------------------------------------------------------------------------------------------
def test_personal_settings_save_name_timezone_and_nudge_override(client_for, member):
    data = {"name": "Mia Member", "timezone": "America/New_York", "checkin_weekday": 4, "checkin_hour": 15}
    response = client_for(member).post(url("my_settings", member.organization), data)
    assert response.status_code == 302
    member.refresh_from_db()
    member.user.refresh_from_db()
    assert member.user.name == "Mia Member"
    assert (member.timezone, member.checkin_weekday, member.checkin_hour) == ("America/New_York", 4, 15)
    # Back to the organization's defaults.
    client_for(member).post(url("my_settings", member.organization), {"name": "Mia"})
    member.refresh_from_db()
    assert (member.timezone, member.checkin_weekday, member.checkin_hour) == ("", None, None)


def test_personal_settings_reject_bad_values_inline(client_for, member):
    data = {"timezone": "Mars/Base", "checkin_weekday": 9, "checkin_hour": 24}
    response = client_for(member).post(url("my_settings", member.organization), data)
    assert response.status_code == 422
    assert set(response.context["form"].errors) == {"timezone", "checkin_weekday", "checkin_hour"}


# --- API tokens -----------------------------------------------------------------------------------------------------
def test_token_secret_is_shown_once_and_stored_hashed(client_for, member):
    client = client_for(member)
    response = client.post(url("tokens", member.organization), {"name": "BI import"})
    secret = re.search(r'id="new-secret">(okr_[^<]+)<', response.content.decode()).group(1)
    token = ApiToken.objects.get(name="BI import")
    assert token.token_hash == hash_secret(secret)
    listing = client.get(url("tokens", member.organization)).content.decode()
    assert secret not in listing and f"okr_{token.prefix}…" in listing and "never" in listing


def test_token_revoke_from_the_page(client_for, member):
    token, _ = services.api_token_create(actor=member, name="script")
    client_for(member).post(url("token_revoke", member.organization, token.public_id))
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_member_cannot_revoke_someone_elses_token(client_for, admin, member):
    token, _ = services.api_token_create(actor=admin, name="admin script")
    response = client_for(member).post(url("token_revoke", member.organization, token.public_id))
    assert response.status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_viewer_cannot_create_tokens_and_empty_name_is_inline(client_for, viewer, member):
    assert client_for(viewer).post(url("tokens", viewer.organization), {"name": "x"}).status_code == 403
    response = client_for(member).post(url("tokens", member.organization), {"name": ""})
    assert response.status_code == 422 and "name" in response.context["form"].errors


# --- Audit ----------------------------------------------------------------------------------------------------------
def test_audit_page_is_admin_only(client_for, admin, member):
    services.api_token_create(actor=member, name="script")
    page = client_for(admin).get(url("audit", admin.organization))
    assert page.status_code == 200 and b"token.created" in page.content
    assert client_for(member).get(url("audit", member.organization)).status_code == 403


def test_audit_page_hides_other_orgs_events(client_for, admin, outsider):
    services.api_token_create(actor=outsider, name="globex-secret-script")
    page = client_for(admin).get(url("audit", admin.organization))
    assert b"globex-secret-script" not in page.content


def _event(verb, **filters):
    event = AuditEvent.objects.filter(verb=verb, **filters).order_by("-at").first()
    assert event is not None, f"no {verb} audit event"
    assert event.at.utcoffset().total_seconds() == 0  # stored and shown in UTC
    return event


def test_audit_events_record_actor_org_ip_and_time(client, owner, member, run_on_commit):
    org = owner.organization
    # login, failed login
    client.post(reverse("account_login"), {"login": owner.user.email, "password": "wrong"})
    assert _event("auth.login_failed", actor=owner.user).ip == "127.0.0.1"
    client.post(reverse("account_login"), {"login": owner.user.email, "password": PASSWORD})
    assert _event("auth.login", actor=owner.user).ip == "127.0.0.1"
    # invitation sent / accepted, role change, deactivation, token created / revoked
    with run_on_commit():
        client.post(url("invitation_create", org), {"email": "inv@x.test", "role": 20})
    sent = _event("invitation.sent", organization=org, actor=owner.user)
    assert sent.diff == {"email": "inv@x.test"} and sent.ip == "127.0.0.1"
    client.post(url("member_role", org, member.public_id), {"role": 30})
    assert _event("membership.role_changed", organization=org, actor=owner.user).diff["role"] == ["Member", "Admin"]
    client.post(url("member_deactivate", org, member.public_id))
    assert _event("membership.deactivated", organization=org, actor=owner.user).target_id == str(member.public_id)
    client.post(url("tokens", org), {"name": "script"})
    token = ApiToken.objects.get(name="script")
    assert _event("token.created", organization=org).target_id == str(token.public_id)
    client.post(url("token_revoke", org, token.public_id))
    assert _event("token.revoked", organization=org, actor=owner.user).ip == "127.0.0.1"
    # sign-up and acceptance by the invitee
    client.post(reverse("account_logout"))
    client.get(invite_link_from_mail())
    client.post(
        reverse("account_signup"),
        {"email": "inv@x.test", "password1": "A-long-pass-phrase-9", "password2": "A-long-pass-phrase-9"},
    )
    assert _event("auth.signup", actor__email="inv@x.test").ip == "127.0.0.1"
    client.post(invite_link_from_mail())
    assert _event("invitation.accepted", organization=org, actor__email="inv@x.test").ip == "127.0.0.1"
    # The owner sees all of it (sign-ins included) on the audit page.
    client.force_login(owner.user)
    content = client.get(url("audit", org)).content.decode()
    for verb in ("auth.login_failed", "auth.login", "invitation.sent", "invitation.accepted", "token.revoked"):
        assert verb in content


# --- Login rate limit (Redis-backed cache) ----------------------------------------------------------------------------
def test_login_is_refused_after_too_many_failures_even_with_the_right_password(client, member):
    from django.core.cache import caches

    assert type(caches["default"]).__name__ == "RedisCache"  # the counters survive across web processes
    for _ in range(5):
        response = client.post(reverse("account_login"), {"login": member.user.email, "password": "wrong"})
        assert response.status_code == 200 and b"Too many" not in response.content
    response = client.post(reverse("account_login"), {"login": member.user.email, "password": PASSWORD})
    assert response.status_code == 200 and b"Too many failed login attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_audit_page_shows_changes_as_old_to_new_with_plain_numbers(client_for, admin):
    from accounts.audit import audit_record

    org = admin.organization
    audit_record(org=org, actor=admin.user, verb="checkin.created", diff={"value": ["2.0000", "1.0000"]})
    audit_record(org=org, actor=admin.user, verb="key_result.updated", diff={"target": ["100.00", "12.50"]})
    audit_record(org=org, actor=admin.user, verb="objective.published", diff={"key_results": ["NRR", "NPS"]})
    audit_record(org=org, actor=admin.user, verb="objective.closed", diff={"scores": {"NRR": "0.70"}})
    html = client_for(admin).get(url("audit", org)).content.decode()
    assert "value: 2 → 1" in html and "target: 100 → 12.5" in html
    assert "key_results: NRR, NPS" in html and "scores: NRR: 0.7" in html
    assert "[" not in "".join(re.findall(r'data-testid="audit-diff">([^<]*)<', html))
