"""Cycle writes: create, update, activate, close, delete. Role checks (ADMIN) live in the views."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Membership, Organization
from objectives.models import Cycle
from objectives.services._common import apply_changes, audit, same_org

CYCLE_FIELDS = {"name", "kind", "start_date", "end_date", "parent"}


def _validate(cycle: Cycle) -> None:
    if cycle.parent_id and cycle.parent.organization_id != cycle.organization_id:
        raise ValidationError({"parent": "Choose a year of this organization."})
    if cycle.parent_id and cycle.kind == Cycle.Kind.YEAR:
        raise ValidationError({"parent": "A year cannot sit inside another cycle."})
    cycle.full_clean()


@transaction.atomic
def cycle_create(
    *,
    org: Organization,
    actor: Membership,
    name: str,
    start_date: date,
    end_date: date,
    kind: str = Cycle.Kind.QUARTER,
    parent: Cycle | None = None,
    status: str = Cycle.Status.PLANNING,
) -> Cycle:
    """Create a cycle (planning by default). A quarter may sit inside a year of the same org."""
    same_org(org, actor)
    cycle = Cycle(
        organization=org,
        name=(name or "").strip(),
        kind=kind,
        start_date=start_date,
        end_date=end_date,
        parent=parent,
        status=status,
    )
    _validate(cycle)
    cycle.save()
    audit(org=org, actor=actor, verb="cycle.created", target=cycle, diff={"name": cycle.name, "kind": kind})
    return cycle


@transaction.atomic
def cycle_update(*, org: Organization, actor: Membership, cycle: Cycle, **changes) -> Cycle:
    """Change name, kind, dates or parent year. Status moves through cycle_activate/cycle_close."""
    same_org(org, actor, cycle)
    if "name" in changes:
        changes["name"] = (changes["name"] or "").strip()
    diff = apply_changes(cycle, changes, CYCLE_FIELDS)
    if not diff:
        return cycle
    _validate(cycle)
    cycle.save()
    audit(org=org, actor=actor, verb="cycle.updated", target=cycle, diff=diff)
    return cycle


@transaction.atomic
def cycle_activate(*, org: Organization, actor: Membership, cycle: Cycle) -> Cycle:
    """Make the cycle active. Only one cycle of each kind is active at a time: the previous one is closed."""
    same_org(org, actor, cycle)
    if cycle.status == Cycle.Status.ACTIVE:
        return cycle
    previous = list(Cycle.objects.for_org(org).filter(kind=cycle.kind, status=Cycle.Status.ACTIVE).exclude(pk=cycle.pk))
    for other in previous:
        other.status = Cycle.Status.CLOSED
        other.save(update_fields=["status", "updated_at"])
        audit(org=org, actor=actor, verb="cycle.closed", target=other, diff={"reason": f"{cycle.name} activated"})
    old = cycle.status
    cycle.status = Cycle.Status.ACTIVE
    cycle.save(update_fields=["status", "updated_at"])
    audit(org=org, actor=actor, verb="cycle.activated", target=cycle, diff={"status": [old, cycle.status]})
    return cycle


@transaction.atomic
def cycle_close(*, org: Organization, actor: Membership, cycle: Cycle) -> Cycle:
    """Mark the cycle closed (check-ins after this are flagged late)."""
    same_org(org, actor, cycle)
    if cycle.status != Cycle.Status.CLOSED:
        old = cycle.status
        cycle.status = Cycle.Status.CLOSED
        cycle.save(update_fields=["status", "updated_at"])
        audit(org=org, actor=actor, verb="cycle.closed", target=cycle, diff={"status": [old, cycle.status]})
    return cycle


@transaction.atomic
def cycle_delete(*, org: Organization, actor: Membership, cycle: Cycle) -> None:
    """Delete an empty cycle. A cycle with objectives or quarters inside is kept (close or archive it instead)."""
    same_org(org, actor, cycle)
    if cycle.objectives.exists():
        raise ValidationError({"cycle": "This cycle still has objectives; move or delete them first."})
    if cycle.children.exists():
        raise ValidationError({"cycle": "Other cycles sit inside this one; delete or move them first."})
    audit(org=org, actor=actor, verb="cycle.deleted", target=cycle, diff={"name": cycle.name})
    cycle.delete()
