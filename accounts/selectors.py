"""Reads for accounts pages and the API, always scoped to one organization."""

from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import ApiToken, AuditEvent, Invitation, Membership, Organization, Role, Team, User


def user_organizations(*, user: User) -> QuerySet[Organization]:
    return Organization.objects.filter(memberships_of(user)).order_by("name")  # tenancy: system (the switcher)


def memberships_of(user: User) -> Q:
    return Q(pk__in=Membership.objects.filter(user=user, is_active=True).values("organization_id"))


def membership_list(*, org: Organization, include_inactive: bool = True, search: str = "") -> QuerySet[Membership]:
    qs = (
        Membership.objects.for_org(org)
        .select_related("user", "organization", "manager__user")
        .order_by("-is_active", "user__email")
    )
    if search:
        qs = qs.filter(Q(user__email__icontains=search) | Q(user__name__icontains=search))
    return qs if include_inactive else qs.filter(is_active=True)


def membership_get(*, org: Organization, public_id) -> Membership:
    return get_object_or_404(Membership.objects.for_org(org).select_related("user"), public_id=public_id)


def team_list(*, org: Organization) -> QuerySet[Team]:
    return Team.objects.for_org(org).select_related("parent", "lead__user").annotate(member_count=Count("team_members"))


def team_get(*, org: Organization, public_id) -> Team:
    members = Prefetch("members", queryset=Membership.objects.select_related("user"))
    return get_object_or_404(team_list(org=org).prefetch_related(members), public_id=public_id)


def invitation_list(*, org: Organization) -> QuerySet[Invitation]:
    return Invitation.objects.for_org(org).select_related("invited_by__user", "accepted_by")


def invitation_list_pending(*, org: Organization) -> QuerySet[Invitation]:
    """Invitations that can still be accepted (not used, withdrawn or expired)."""
    return invitation_list(org=org).filter(accepted_at=None, revoked_at=None, expires_at__gt=timezone.now())


def invitation_get(*, org: Organization, public_id) -> Invitation:
    return get_object_or_404(Invitation.objects.for_org(org), public_id=public_id)


def api_token_list(*, org: Organization, membership: Membership) -> QuerySet[ApiToken]:
    """A member sees their own tokens; admins see every token in the org."""
    qs = ApiToken.objects.for_org(org).select_related("membership__user")
    return qs if membership.role >= Role.ADMIN else qs.filter(membership=membership)


def api_token_get(*, org: Organization, membership: Membership, public_id) -> ApiToken:
    return get_object_or_404(api_token_list(org=org, membership=membership), public_id=public_id)


AUTH_VERBS = ("auth.login", "auth.login_failed", "auth.signup", "auth.logout")


def audit_event_list(*, org: Organization) -> QuerySet[AuditEvent]:
    """The org's events plus the sign-in events (which have no org) of its members."""
    member_ids = Membership.objects.for_org(org).values("user_id")
    return AuditEvent.objects.filter(
        Q(organization=org) | Q(organization__isnull=True, verb__in=AUTH_VERBS, actor_id__in=member_ids)
    ).select_related("actor")
