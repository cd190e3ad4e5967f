"""Builders for the check-in tests: a cycle with fixed dates, an objective and a KR owned by someone."""

from datetime import date

from objectives.models import Cycle, KeyResult, Objective
from tests.factories_okr import CycleFactory, InitiativeFactory, KeyResultFactory, ObjectiveFactory

Q2 = (date(2026, 4, 1), date(2026, 6, 30))


def make_cycle(org, *, start=Q2[0], end=Q2[1], status=Cycle.Status.ACTIVE, name=None):
    return CycleFactory(
        organization=org, start_date=start, end_date=end, status=status, **({"name": name} if name else {})
    )


def make_kr(owner, *, cycle=None, visibility=Objective.Visibility.ORGANIZATION, **fields) -> KeyResult:
    """An active KR owned by `owner` (a Membership) in its org, in `cycle` (default: a fresh Q2 2026)."""
    org = owner.organization
    cycle = cycle or make_cycle(org)
    objective = ObjectiveFactory(organization=org, cycle=cycle, owner=owner, visibility=visibility)
    fields.setdefault("owner", owner)
    return KeyResultFactory(objective=objective, **fields)


def make_initiative(key_result, **fields):
    return InitiativeFactory(key_result=key_result, **fields)
