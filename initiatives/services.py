"""Initiative writes: the bets expected to move a key result. Atomic, org-checked, audited."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Membership, Organization
from initiatives.models import Initiative
from objectives.models import KeyResult
from objectives.services._common import apply_changes, audit, check_person, same_org
from webhooks.events import emit_initiative_status_changed

INITIATIVE_FIELDS = {"title", "hypothesis", "owner", "status", "due_date", "progress", "position", "key_result"}
_UNSET = object()


def _validate(org: Organization, initiative: Initiative) -> None:
    check_person(org, initiative.owner)
    initiative.title = (initiative.title or "").strip()
    if initiative.key_result.organization_id != org.id:
        raise ValidationError({"key_result": "Choose a key result of this organization."})
    initiative.clean_fields(exclude=["key_result", "organization"])
    if initiative.progress is not None and initiative.progress > 100:
        raise ValidationError({"progress": "Progress goes from 0 to 100."})
    if initiative.status == Initiative.Status.DONE and initiative.progress < 100:
        initiative.progress = 100  # done means done; the roll-up and the watermelon rule count on it
    initiative.validate_constraints(exclude={"key_result", "organization"})


@transaction.atomic
def initiative_create(
    *,
    org: Organization,
    actor: Membership,
    key_result: KeyResult,
    title: str,
    hypothesis: str = "",
    owner: Membership | None = _UNSET,  # type: ignore[assignment]
    status: str = Initiative.Status.NOT_STARTED,
    due_date: date | None = None,
    progress: int = 0,
    position: int | None = None,
) -> Initiative:
    """Add an initiative under `key_result`. The owner defaults to the actor; pass owner=None for unowned."""
    same_org(org, actor, key_result)
    if key_result.status == KeyResult.Status.CLOSED:
        raise ValidationError({"key_result": "The key result is closed."})
    if position is None:
        position = key_result.initiatives.count()
    initiative = Initiative(
        organization=org,
        key_result=key_result,
        title=title,
        hypothesis=hypothesis or "",
        owner=actor if owner is _UNSET else owner,
        status=status,
        due_date=due_date,
        progress=progress if progress is not None else 0,
        position=position,
    )
    _validate(org, initiative)
    initiative.save()
    audit(org=org, actor=actor, verb="initiative.created", target=initiative, diff={"title": initiative.title})
    return initiative


@transaction.atomic
def initiative_update(*, org: Organization, actor: Membership, initiative: Initiative, **changes) -> Initiative:
    """Edit title, hypothesis, owner, status, due date, manual progress, position or move it to another KR."""
    same_org(org, actor, initiative)
    diff = apply_changes(initiative, changes, INITIATIVE_FIELDS)
    if not diff:
        return initiative
    _validate(org, initiative)
    initiative.save()
    audit(org=org, actor=actor, verb="initiative.updated", target=initiative, diff=diff)
    if "status" in diff:
        emit_initiative_status_changed(org=org, initiative=initiative, old_status=diff["status"][0], actor=actor)
    return initiative


@transaction.atomic
def initiative_delete(*, org: Organization, actor: Membership, initiative: Initiative) -> None:
    """Delete an initiative."""
    same_org(org, actor, initiative)
    audit(org=org, actor=actor, verb="initiative.deleted", target=initiative, diff={"title": initiative.title})
    initiative.delete()
