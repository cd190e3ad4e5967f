"""Cycle writes: create, update, activate, close, delete. Role checks (ADMIN) live in the views."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Membership, Organization
from objectives.models import Cycle
from objectives.services._common import apply_changes, audit, same_org

CYCLE_FIELDS = {"name", "kind", "start_date", "end_date", "parent"}


def _validate(cycle: Cycle) -> None:
    if cycle.parent_id and cycle.parent.organization_id != cycle.organization_id:
        raise ValidationError({"parent": "Choose a year of this organization."})
    if cycle.parent_id and cycle.kind == Cycle.Kind.YEAR:
        raise ValidationError({"parent": "A year cannot sit inside another cycle."})
    # The name's unique constraint, said about the name (full_clean would say "Cycle with this Organization and
    # Name already exists." under __all__).
    if Cycle.objects.for_org(cycle.organization).filter(name=cycle.name).exclude(pk=cycle.pk).exists():
        raise ValidationError({"name": f'A cycle named "{cycle.name}" already exists.'})
    cycle.full_clean()
    if cycle.pk:
        _validate_children(cycle)


def _save(cycle: Cycle) -> None:
    try:
        with transaction.atomic():
            cycle.save()
    except IntegrityError:  # a concurrent request took the name between _validate and here
        raise ValidationError({"name": f'A cycle named "{cycle.name}" already exists.'}) from None


def _validate_children(cycle: Cycle) -> None:
    """The nesting rules seen from the container: a year keeps every cycle inside it within its dates, and stays
    a year while it has any (the same rules cycle_create and Cycle.clean apply from the inside)."""
    children = list(Cycle.objects.for_org(cycle.organization).filter(parent=cycle).order_by("start_date"))
    if not children:
        return
    names = ", ".join(c.name for c in children[:3]) + (", …" if len(children) > 3 else "")
    if cycle.kind != Cycle.Kind.YEAR:
        raise ValidationError(
            {"kind": f"{cycle.name} contains other cycles ({names}); move them out before changing its kind."}
        )
    early = [c for c in children if c.start_date < cycle.start_date]
    if early:
        raise ValidationError(
            {"start_date": f"{early[0].name} starts on {early[0].start_date}; {cycle.name} must contain it."}
        )
    late = [c for c in children if c.end_date > cycle.end_date]
    if late:
        raise ValidationError(
            {"end_date": f"{late[-1].name} ends on {late[-1].end_date}; {cycle.name} must contain it."}
        )


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
    _save(cycle)
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
    _save(cycle)
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
