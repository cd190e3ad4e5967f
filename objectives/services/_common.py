"""Helpers shared by the OKR services: org checks, audit with a readable diff, validation of people and teams."""

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError

from accounts.audit import audit_record
from accounts.models import Membership, Organization, Role, Team


def same_org(org: Organization, *objs) -> None:
    """Services only ever receive rows a selector scoped to `org`; anything else is a programming error."""
    for obj in objs:
        if obj is not None:
            assert obj.organization_id == org.id, f"{obj!r} belongs to another organization"


def display(value) -> object:
    """A JSON-friendly, human-readable form of a field value for audit diffs and revisions."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Membership):
        return value.user.display_name
    if isinstance(value, list | dict):
        return value
    return str(value)


def apply_changes(instance, changes: dict, allowed: set[str]) -> dict:
    """Set the allowed fields on `instance`; return {field: [old, new]} for the ones that really changed."""
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"Cannot change {', '.join(sorted(unknown))} here.")
    diff = {}
    for field, new in changes.items():
        old = getattr(instance, field)
        field_obj = instance._meta.get_field(field)
        if not field_obj.is_relation:
            try:
                new = field_obj.to_python(new) if new is not None else None
                old = field_obj.to_python(old) if old is not None else None
            except ValidationError as exc:
                raise ValidationError({field: exc.messages}) from None
        if old != new:
            diff[field] = [display(old), display(new)]
            setattr(instance, field, new)
    return diff


def check_person(org: Organization, person: Membership | None, field: str = "owner") -> None:
    if person is None:
        return
    if person.organization_id != org.id or not person.is_active:
        raise ValidationError({field: "Choose an active member of this organization."})
    if person.role < Role.MEMBER:
        # Viewers cannot check in, so a goal or a bet they owned would go stale with nobody able to update it.
        raise ValidationError(
            {field: "Viewers cannot own goals or work: choose a member, or give them the Member role."}
        )


def check_team(org: Organization, team: Team | None, field: str = "team") -> None:
    if team is not None and team.organization_id != org.id:
        raise ValidationError({field: "Choose a team of this organization."})


def audit(*, org: Organization, actor: Membership | None, verb: str, target, diff: dict | None = None) -> None:
    audit_record(org=org, actor=actor.user if actor is not None else None, verb=verb, target=target, diff=diff)
