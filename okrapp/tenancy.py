"""One tenant resolver, used by the HTML decorator and the DRF permission alike (STYLE.md c.4)."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.models import Membership, Role

LAST_ORG_SESSION_KEY = "last_org_slug"


def resolve_membership(user, org_slug: str) -> Membership:
    """The user's active membership in the organization, or Http404.

    "No such organization" and "not a member" give the same answer, so slugs cannot be probed.
    """
    if not user or not user.is_authenticated:
        raise Http404("No such organization.")
    try:
        return (
            Membership.objects.select_related("organization", "user")
            .defer("organization__slack_webhook_url")  # encrypted; read only where needed, not on every request
            .get(user=user, organization__slug=org_slug, is_active=True)
        )
    except Membership.DoesNotExist:
        raise Http404("No such organization.") from None


def org_member_required(view=None, *, min_role: Role = Role.VIEWER):
    """Resolve /o/<org_slug>/ for an HTML view: sets request.organization and request.membership.

    Not a member → 404; a member below min_role → 403.
    """

    def decorator(view_func):
        @wraps(view_func)
        def wrapper(request, org_slug: str, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = getattr(request, "resolved_membership", None)  # okrapp.middleware.OrgMembershipMiddleware
            if membership is None or membership.organization.slug != org_slug:
                membership = resolve_membership(request.user, org_slug)
            if membership.role < min_role:
                raise PermissionDenied(f"This page needs the {Role(min_role).label} role.")
            request.organization, request.membership = membership.organization, membership
            if request.session.get(LAST_ORG_SESSION_KEY) != org_slug:  # no session write on every page view
                request.session[LAST_ORG_SESSION_KEY] = org_slug
            return view_func(request, *args, **kwargs)

        return wrapper

    return decorator(view) if view is not None else decorator
