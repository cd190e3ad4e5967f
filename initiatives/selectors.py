"""Initiative reads, through the same privacy filter as objectives (objectives.selectors.visible_initiatives)."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Membership, Organization
from initiatives.models import Initiative
from objectives.selectors import visible_initiatives


def initiative_get(*, org: Organization, membership: Membership, public_id) -> Initiative:
    """One initiative under a visible objective, or 404."""
    qs = visible_initiatives(org, membership).select_related(
        "key_result__objective__cycle", "key_result__objective__owner", "key_result__owner", "owner__user"
    )
    return get_object_or_404(qs, public_id=public_id)


def initiative_list(
    *, org: Organization, membership: Membership, key_result=None, owner=None, status: str | None = None
) -> QuerySet[Initiative]:
    """Visible initiatives, optionally of one KR / owner / status."""
    qs = visible_initiatives(org, membership)
    if key_result is not None:
        qs = qs.filter(key_result=key_result)
    if owner is not None:
        qs = qs.filter(owner=owner)
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("key_result", "owner__user")
