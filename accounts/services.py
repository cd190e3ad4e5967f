"""Writes for organizations, memberships, teams, invitations and API tokens (keyword-only, audited)."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from accounts.audit import audit_record
from accounts.models import ApiToken, Invitation, Membership, Organization, Role, Team, TeamMember, User
from accounts.tasks import send_invitation_email as send_invitation_email_task
from accounts.tokens import hash_secret, new_secret, secrets_match

INVITATION_LIFETIME = timedelta(days=7)
API_TOKEN_PREFIX = "okr_"
RESERVED_SLUGS = {"new", "api", "admin", "static", "accounts", "o", "dev", "healthz", "invitations"}


# --- Organizations ------------------------------------------------------------------------------------------------
def organization_unique_slug(*, name: str) -> str:
    base = slugify(name)[:50] or "org"
    if base in RESERVED_SLUGS:
        base = f"{base}-org"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():  # tenancy: system (slugs are global)
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def organization_create(*, user: User, name: str, timezone_name: str = "UTC", ip: str | None = None) -> Organization:
    """Create an organization with `user` as its first OWNER."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the organization a name."})
    org = Organization.objects.create(name=name, slug=organization_unique_slug(name=name), timezone=timezone_name)
    Membership.objects.create(organization=org, user=user, role=Role.OWNER)
    audit_record(org=org, actor=user, verb="organization.created", target=org, ip=ip)
    return org


# --- Memberships --------------------------------------------------------------------------------------------------
def _lock_owners_and_refresh(*memberships: Membership) -> None:
    """Lock the org's OWNER rows and the given rows (target and actor), then re-read their role and status.

    Two concurrent demotions (or deactivations) of two different owners would otherwise each see "another owner is
    left" and together remove the last one. The second transaction waits here and then counts what the first did;
    the actor is re-read too, so a role lost a moment ago cannot still be used.
    """
    org_id = memberships[0].organization_id
    rows = Membership.objects.for_org(org_id).filter(Q(role=Role.OWNER) | Q(pk__in=[m.pk for m in memberships]))
    list(rows.order_by("pk").select_for_update().values_list("pk", flat=True))
    for m in memberships:
        m.refresh_from_db(fields=["role", "is_active"])


def _is_last_active_owner(membership: Membership) -> bool:
    if membership.role != Role.OWNER or not membership.is_active:
        return False
    others = Membership.objects.for_org(membership.organization).filter(role=Role.OWNER, is_active=True)
    return not others.exclude(pk=membership.pk).exists()


@transaction.atomic
def membership_change_role(
    *, actor: Membership, membership: Membership, role: int, ip: str | None = None
) -> Membership:
    """Change a member's role. Only an OWNER grants or removes OWNER; the last OWNER always stays one."""
    assert membership.organization_id == actor.organization_id
    role = Role(role)
    _lock_owners_and_refresh(membership, actor)
    if membership.role == role:
        return membership
    if Role.OWNER in (role, membership.role) and actor.role < Role.OWNER:
        raise ValidationError({"role": "Only an owner can grant or remove the owner role."})
    if _is_last_active_owner(membership):
        raise ValidationError({"role": "The last owner cannot be demoted. Make someone else an owner first."})
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    audit_record(
        org=membership.organization,
        actor=actor.user,
        verb="membership.role_changed",
        target=membership,
        diff={"role": [Role(old).label, role.label], "user": membership.user.email},
        ip=ip,
    )
    return membership


@transaction.atomic
def membership_deactivate(*, actor: Membership, membership: Membership, ip: str | None = None) -> Membership:
    """Remove a member's access (the row stays, so their OKRs keep an owner) and revoke their API tokens."""
    assert membership.organization_id == actor.organization_id
    _lock_owners_and_refresh(membership, actor)
    if not membership.is_active:
        return membership
    if membership.role == Role.OWNER and actor.role < Role.OWNER:
        raise ValidationError({"membership": "Only an owner can deactivate another owner."})
    if _is_last_active_owner(membership):
        raise ValidationError({"membership": "The last owner cannot be removed. Make someone else an owner first."})
    membership.is_active = False
    membership.save(update_fields=["is_active", "updated_at"])
    ApiToken.objects.for_org(membership.organization).filter(membership=membership, revoked_at=None).update(
        revoked_at=timezone.now()
    )
    audit_record(
        org=membership.organization,
        actor=actor.user,
        verb="membership.deactivated",
        target=membership,
        diff={"user": membership.user.email},
        ip=ip,
    )
    return membership


@transaction.atomic
def membership_reactivate(*, actor: Membership, membership: Membership, ip: str | None = None) -> Membership:
    """Give a deactivated member their access back, with the role they had."""
    assert membership.organization_id == actor.organization_id
    if membership.role == Role.OWNER and actor.role < Role.OWNER:
        # Otherwise an ADMIN could hand out owner access, which only owners may grant.
        raise ValidationError({"membership": "Only an owner can reactivate an owner."})
    if membership.is_active:
        return membership
    membership.is_active = True
    membership.save(update_fields=["is_active", "updated_at"])
    audit_record(org=membership.organization, actor=actor.user, verb="membership.reactivated", target=membership, ip=ip)
    return membership


def membership_update_preferences(*, membership: Membership, **fields) -> Membership:
    """Personal settings: timezone and check-in weekday/hour overrides, digest opt-out."""
    allowed = {"timezone", "checkin_weekday", "checkin_hour", "digest_opt_out"}
    for key, value in fields.items():
        if key not in allowed:
            raise ValueError(f"Unknown preference {key}")
        setattr(membership, key, value)
    membership.full_clean(exclude=["user", "organization", "manager"])
    membership.save(update_fields=[*fields.keys(), "updated_at"])
    if {"timezone", "checkin_weekday", "checkin_hour"} & fields.keys():
        # Timing changed: recompute the next nudge now (checkins/schedule.py), not after the old slot fires.
        from checkins.schedule import membership_reschedule

        membership_reschedule(membership=membership)
    return membership


# --- Invitations --------------------------------------------------------------------------------------------------
def invitation_url(*, token: str) -> str:
    return settings.SITE_URL + reverse("invitation_accept", args=[token])


@transaction.atomic
def invitation_send(*, actor: Membership, email: str, role: int, ip: str | None = None) -> tuple[Invitation, str]:
    """Invite an email address with a role; returns the invitation and the one-time link token."""
    org = actor.organization
    email = email.strip().lower()
    if role > actor.role:
        raise ValidationError({"role": "You cannot invite someone with a higher role than your own."})
    if Membership.objects.for_org(org).filter(user__email__iexact=email, is_active=True).exists():
        raise ValidationError({"email": f"{email} is already a member of {org.name}."})
    # A newer invitation replaces any pending one for the same address.
    Invitation.objects.for_org(org).filter(email__iexact=email, accepted_at=None, revoked_at=None).update(
        revoked_at=timezone.now()
    )
    token = new_secret()
    invitation = Invitation.objects.create(
        organization=org,
        email=email,
        role=role,
        token_hash=hash_secret(token),
        invited_by=actor,
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )
    # The worker emails it after commit (a rolled-back invitation never sends). The token rides along because only
    # its hash is stored; see accounts.tasks.
    send_invitation_email_task.delay_on_commit(org.id, invitation.id, token)
    audit_record(org=org, actor=actor.user, verb="invitation.sent", target=invitation, diff={"email": email}, ip=ip)
    return invitation, token


def invitation_send_email(*, org_id: int, invitation_id: int, token: str) -> bool:
    """Email the invitation link once; True when a mail went out.

    Quietly sends nothing when the invitation is gone, no longer pending, already emailed or the token does not
    match. The row stays locked while the mail is handed to the backend, so a redelivered task waits and then sees
    `email_sent_at`. A crash between sending and commit can still send twice (at-least-once, fine for an invite).
    """
    with transaction.atomic():
        invitation = (
            Invitation.objects.for_org(org_id)
            .select_for_update(of=("self",))
            .select_related("organization", "invited_by__user")
            .filter(pk=invitation_id)
            .first()
        )
        if invitation is None or invitation.email_sent_at is not None or not invitation.is_pending:
            return False
        if not secrets_match(token, invitation.token_hash):
            return False
        org = invitation.organization
        inviter = invitation.invited_by.user if invitation.invited_by else None
        context = {
            "org": org,
            "inviter": inviter,
            "url": invitation_url(token=token),
            "role": Role(invitation.role).label,
        }
        inviter_name = inviter.display_name if inviter else "Someone"
        send_mail(
            subject=f"{inviter_name} invited you to {org.name} on okrapp",
            message=render_to_string("accounts/email/invitation.txt", context),
            html_message=render_to_string("accounts/email/invitation.html", context),
            from_email=None,
            recipient_list=[invitation.email],
        )
        invitation.email_sent_at = timezone.now()
        invitation.save(update_fields=["email_sent_at", "updated_at"])
    return True


def invitation_get_by_token(*, token: str) -> Invitation | None:
    """The invitation a link points to, whatever its state (None for an unknown or malformed token)."""
    if not token or len(token) > 100:
        return None
    invitation = (
        Invitation.objects.select_related("organization", "invited_by__user")  # tenancy: system (token lookup)
        .filter(token_hash=hash_secret(token))
        .first()
    )
    if invitation and secrets_match(token, invitation.token_hash):
        return invitation
    return None


def invitation_problem(invitation: Invitation | None) -> str | None:
    """Why a link cannot be used, in words for the page; None when it can."""
    if invitation is None:
        return "This invitation link is not valid. Ask the person who invited you for a new one."
    if invitation.revoked_at:
        return "This invitation was withdrawn or replaced by a newer one."
    if invitation.accepted_at:
        return "This invitation has already been used."
    if invitation.expires_at <= timezone.now():
        return "This invitation has expired (links last 7 days). Ask for a new one."
    return None


@transaction.atomic
def invitation_accept(*, token: str, user: User, ip: str | None = None) -> Membership:
    """Turn a valid invitation into a membership for `user`. Works once; the row is locked against a double click."""
    invitation = invitation_get_by_token(token=token)
    if invitation is not None:
        invitation = Invitation.objects.select_for_update().select_related("organization").get(pk=invitation.pk)
    problem = invitation_problem(invitation)
    if problem:
        raise ValidationError(problem)
    org = invitation.organization
    membership, created = Membership.objects.get_or_create(
        organization=org, user=user, defaults={"role": invitation.role}
    )
    if not created:
        if membership.is_active:
            raise ValidationError(f"You are already a member of {org.name}.")
        membership.is_active, membership.role = True, invitation.role
        membership.save(update_fields=["is_active", "role", "updated_at"])
    invitation.accepted_at, invitation.accepted_by = timezone.now(), user
    invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    audit_record(org=org, actor=user, verb="invitation.accepted", target=invitation, diff={"email": user.email}, ip=ip)
    return membership


@transaction.atomic
def invitation_revoke(*, actor: Membership, invitation: Invitation, ip: str | None = None) -> Invitation:
    assert invitation.organization_id == actor.organization_id
    if invitation.revoked_at is None and invitation.accepted_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at", "updated_at"])
        audit_record(org=actor.organization, actor=actor.user, verb="invitation.revoked", target=invitation, ip=ip)
    return invitation


# --- Teams ----------------------------------------------------------------------------------------------------------
@transaction.atomic
def team_save(
    *,
    actor: Membership,
    name: str,
    parent: Team | None = None,
    lead: Membership | None = None,
    members: list[Membership] | None = None,
    team: Team | None = None,
) -> Team:
    """Create or update a team (name, parent, lead, members). All related rows must be in the actor's org."""
    org = actor.organization
    for related in (parent, lead, *(members or [])):
        assert related is None or related.organization_id == org.id
    creating = team is None
    team = team or Team(organization=org)
    team.name, team.parent, team.lead = name.strip(), parent, lead
    team.full_clean(exclude=["organization"])
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError:
        raise ValidationError({"name": f"A team called {name!r} already exists."}) from None
    if members is not None:
        wanted = {m.pk for m in members} | ({lead.pk} if lead else set())
        TeamMember.objects.for_org(org).filter(team=team).exclude(membership_id__in=wanted).delete()
        existing = set(TeamMember.objects.for_org(org).filter(team=team).values_list("membership_id", flat=True))
        TeamMember.objects.bulk_create(
            [TeamMember(organization=org, team=team, membership_id=pk) for pk in wanted - existing]
        )
    audit_record(org=org, actor=actor.user, verb="team.created" if creating else "team.updated", target=team)
    return team


@transaction.atomic
def team_delete(*, actor: Membership, team: Team) -> None:
    assert team.organization_id == actor.organization_id
    audit_record(org=actor.organization, actor=actor.user, verb="team.deleted", target=team)
    team.delete()


# --- API tokens -----------------------------------------------------------------------------------------------------
@transaction.atomic
def api_token_create(*, actor: Membership, name: str, ip: str | None = None) -> tuple[ApiToken, str]:
    """Create a token for the actor in this org. The secret is returned once and never stored."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the token a name so you recognise it later."})
    # Hex, so the prefix never contains the '_' that separates it from the secret part.
    prefix = secrets.token_hex(4)
    secret = f"{API_TOKEN_PREFIX}{prefix}_{new_secret(30)}"
    token = ApiToken.objects.create(
        organization=actor.organization,
        membership=actor,
        name=name,
        prefix=prefix,
        token_hash=hash_secret(secret),
    )
    audit_record(org=actor.organization, actor=actor.user, verb="token.created", target=token, ip=ip)
    return token, secret


@transaction.atomic
def api_token_revoke(*, actor: Membership, token: ApiToken, ip: str | None = None) -> ApiToken:
    assert token.organization_id == actor.organization_id
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
        audit_record(org=actor.organization, actor=actor.user, verb="token.revoked", target=token, ip=ip)
    return token


def api_token_authenticate(*, secret: str) -> ApiToken | None:
    """The active token for a presented secret (with its membership and org), or None."""
    if not secret.startswith(API_TOKEN_PREFIX) or secret.count("_") < 2:
        return None
    prefix = secret[len(API_TOKEN_PREFIX) :].split("_", 1)[0]
    token = (
        ApiToken.objects.select_related("organization", "membership__user")  # tenancy: system (auth lookup)
        .defer("organization__slack_webhook_url")  # encrypted; not needed to authenticate
        .filter(prefix=prefix, revoked_at=None, membership__is_active=True)
        .first()
    )
    if token is None or not secrets_match(secret, token.token_hash):
        return None
    # Write last-used at most once a minute: a busy script should not turn every read into a write.
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)  # tenancy: system
        token.last_used_at = now
    return token


def user_update_name(*, user: User, name: str) -> User:
    user.name = name.strip()[:150]
    user.save(update_fields=["name"])
    return user
