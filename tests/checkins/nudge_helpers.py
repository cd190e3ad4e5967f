"""Small builders for the nudge tests (the shared factories have no OKR factories yet)."""

from datetime import date

from accounts.models import Membership
from objectives.models import Cycle, KeyResult, Objective
from tests.factories import MembershipFactory


def make_cycle(org, *, name="Q2", start=date(2026, 1, 1), end=date(2026, 12, 31)):
    cycle, _ = Cycle.objects.get_or_create(
        organization=org, name=name, defaults={"start_date": start, "end_date": end, "status": Cycle.Status.ACTIVE}
    )
    return cycle


def make_kr(owner: Membership, *, title="Increase activation", current=10, target=50, status=KeyResult.Status.ACTIVE):
    org = owner.organization
    objective = Objective.objects.create(
        organization=org, cycle=make_cycle(org), title=f"Objective for {title}", owner=owner, status="active"
    )
    return KeyResult.objects.create(
        organization=org,
        objective=objective,
        title=title,
        owner=owner,
        baseline=0,
        target=target,
        current=current,
        unit=KeyResult.Unit.PERCENT,
        status=status,
    )


def make_member(org, *, email=None, **fields):
    kwargs = {"organization": org, **fields}
    if email:
        kwargs["user__email"] = email
    return MembershipFactory(**kwargs)
