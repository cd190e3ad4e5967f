"""Who may change what (DESIGN.md §4): MEMBERs edit what they own, ADMINs edit everything; VIEWERs only read.

Pure checks on ids, used by HTML views and the API alike. Visibility (who may *see*) lives in selectors.
"""

from accounts.models import Membership, Role


def _is_admin(membership: Membership) -> bool:
    return membership.role >= Role.ADMIN


def can_create(membership: Membership) -> bool:
    """Anyone from MEMBER up may draft objectives and add initiatives."""
    return membership.role >= Role.MEMBER


def can_edit_objective(membership: Membership, objective) -> bool:
    """The objective's owner or an ADMIN+."""
    if _is_admin(membership):
        return True
    return membership.role >= Role.MEMBER and objective.owner_id == membership.id


def can_edit_key_result(membership: Membership, key_result) -> bool:
    """The KR's owner, the objective's owner or an ADMIN+."""
    if can_edit_objective(membership, key_result.objective):
        return True
    return membership.role >= Role.MEMBER and key_result.owner_id == membership.id


def can_edit_initiative(membership: Membership, initiative) -> bool:
    """The initiative's owner, its KR's owner, the objective's owner or an ADMIN+."""
    if can_edit_key_result(membership, initiative.key_result):
        return True
    return membership.role >= Role.MEMBER and initiative.owner_id == membership.id


def can_manage_cycles(membership: Membership) -> bool:
    return _is_admin(membership)
