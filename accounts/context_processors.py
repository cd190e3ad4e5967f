from django.conf import settings

from accounts.selectors import user_organizations


def organization(request):
    """The current org and membership (set by the tenancy decorator) and the org switcher's list."""
    user = getattr(request, "user", None)
    orgs = user_organizations(user=user) if user is not None and user.is_authenticated else []
    return {
        "current_org": getattr(request, "organization", None),
        "current_membership": getattr(request, "membership", None),
        "switcher_orgs": orgs,
        "dev_outbox_enabled": settings.DEV_OUTBOX_ENABLED,
    }
