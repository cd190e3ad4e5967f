"""Objective writes: create, update, publish (with its ownership and quality checks), close, archive, delete."""

from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Membership, Organization, Role, Team
from checkins.models import CheckIn
from objectives.models import Cycle, KeyResult, Objective
from objectives.progress import kr_progress
from objectives.services._common import apply_changes, audit, check_person, check_team, same_org
from okrapp.db import LONG_TEXT_MAX
from webhooks.events import emit_key_results_status_changed, emit_objective_status_changed

OBJECTIVE_FIELDS = {
    "title",
    "description",
    "level",
    "team",
    "owner",
    "visibility",
    "position",
    "cycle",
    "retrospective",
}
_UNSET = object()


def _validate(org: Organization, objective: Objective) -> None:
    check_person(org, objective.owner)
    check_team(org, objective.team)
    if objective.cycle.organization_id != org.id:
        raise ValidationError({"cycle": "Choose a cycle of this organization."})
    objective.title = (objective.title or "").strip()
    if objective.level == Objective.Level.TEAM and objective.team_id is None:
        raise ValidationError({"team": "A team objective needs a team."})
    if objective.visibility == Objective.Visibility.TEAM and objective.team_id is None:
        raise ValidationError({"visibility": "Team-only visibility needs a team."})
    objective.full_clean(exclude=["parent_objective", "parent_key_result", "organization"])


@transaction.atomic
def objective_create(
    *,
    org: Organization,
    actor: Membership,
    cycle: Cycle,
    title: str,
    description: str = "",
    level: str = Objective.Level.TEAM,
    team: Team | None = None,
    owner: Membership | None = _UNSET,  # type: ignore[assignment]
    visibility: str = Objective.Visibility.ORGANIZATION,
    position: int | None = None,
) -> Objective:
    """Draft a new objective in `cycle`. The owner defaults to the actor; pass owner=None to leave it unowned."""
    same_org(org, actor)
    if cycle.status == Cycle.Status.CLOSED:
        raise ValidationError({"cycle": f"{cycle.name} is closed; add objectives to an open cycle."})
    if position is None:
        position = Objective.objects.for_org(org).filter(cycle=cycle).count()
    objective = Objective(
        organization=org,
        cycle=cycle,
        title=title,
        description=description or "",
        level=level,
        team=team,
        owner=actor if owner is _UNSET else owner,
        visibility=visibility,
        position=position,
    )
    _validate(org, objective)
    objective.save()
    audit(org=org, actor=actor, verb="objective.created", target=objective, diff={"title": objective.title})
    return objective


@transaction.atomic
def objective_update(*, org: Organization, actor: Membership, objective: Objective, **changes) -> Objective:
    """Edit title, description, level, team, owner, visibility, position, cycle or retrospective."""
    same_org(org, actor, objective)
    diff = apply_changes(objective, changes, OBJECTIVE_FIELDS)
    if not diff:
        return objective
    if "cycle" in diff and objective.cycle.status == Cycle.Status.CLOSED:
        raise ValidationError({"cycle": f"{objective.cycle.name} is closed."})
    _validate(org, objective)
    objective.save()
    audit(org=org, actor=actor, verb="objective.updated", target=objective, diff=diff)
    return objective


def objective_publish_blockers(*, objective: Objective, key_results: list[KeyResult] | None = None) -> list[str]:
    """Everything that stops `objective` going live, in words ("KR 'X' has no owner."). Empty: ready."""
    if key_results is None:
        key_results = list(objective.key_results.select_related("owner"))
    blockers = []
    if objective.status in (Objective.Status.CLOSED, Objective.Status.ARCHIVED):
        blockers.append(f"The objective is {objective.get_status_display().lower()}.")
    if objective.cycle.status == Cycle.Status.CLOSED:
        blockers.append(f"The cycle {objective.cycle.name} is closed.")
    if objective.owner_id is None:
        blockers.append("The objective has no owner.")
    if objective.level == Objective.Level.TEAM and objective.team_id is None:
        blockers.append("A team objective needs a team.")
    if not key_results:
        blockers.append("Add at least one key result.")
    for kr in key_results:
        blockers.extend(key_result_blockers(key_result=kr))
    return blockers


def key_result_blockers(*, key_result: KeyResult) -> list[str]:
    """Why one KR cannot go live (ownership and measurability), in words."""
    name = f"KR '{key_result.title}'"
    problems = []
    if key_result.owner_id is None:
        problems.append(f"{name} has no owner.")
    elif not key_result.owner.is_active:
        problems.append(f"{name} is owned by someone who is no longer a member.")
    elif key_result.owner.role < Role.MEMBER:
        problems.append(f"{name} is owned by a viewer, who cannot check in.")
    if key_result.kind in (KeyResult.Kind.INCREASE, KeyResult.Kind.DECREASE):
        if key_result.baseline == key_result.target:
            problems.append(f"{name} has the same baseline and target, so its progress cannot be measured.")
        elif key_result.kind == KeyResult.Kind.INCREASE and key_result.target < key_result.baseline:
            problems.append(f"{name} is an increase but its target is below its baseline.")
        elif key_result.kind == KeyResult.Kind.DECREASE and key_result.target > key_result.baseline:
            problems.append(f"{name} is a decrease but its target is above its baseline.")
    return problems


@transaction.atomic
def objective_publish(*, org: Organization, actor: Membership, objective: Objective) -> Objective:
    """Run the ownership and quality checks, then make the objective and all its KRs active.

    Raises ValidationError listing every blocker at once, so the page can show them all.
    """
    same_org(org, actor, objective)
    objective = Objective.objects.for_org(org).select_for_update().select_related("cycle").get(pk=objective.pk)
    if objective.status == Objective.Status.ACTIVE:
        key_results = list(objective.key_results.select_related("owner").filter(status=KeyResult.Status.DRAFT))
        if not key_results:
            return objective
    else:
        key_results = list(objective.key_results.select_related("owner"))
    blockers = objective_publish_blockers(objective=objective, key_results=key_results)
    if blockers:
        raise ValidationError(blockers)
    old_status = objective.status
    objective.status = Objective.Status.ACTIVE
    objective.save(update_fields=["status", "updated_at"])
    KeyResult.objects.for_org(org).filter(pk__in=[kr.pk for kr in key_results], status=KeyResult.Status.DRAFT).update(
        status=KeyResult.Status.ACTIVE
    )
    published = [(kr, kr.status) for kr in key_results if kr.status == KeyResult.Status.DRAFT]
    for kr, _ in published:
        kr.status = KeyResult.Status.ACTIVE
    emit_objective_status_changed(org=org, objective=objective, old_status=old_status, actor=actor)
    emit_key_results_status_changed(org=org, objective=objective, changes=published, actor=actor)
    audit(
        org=org,
        actor=actor,
        verb="objective.published",
        target=objective,
        diff={"key_results": [kr.title for kr in key_results]},
    )
    return objective


def _close_scores(org: Organization, key_results: list[KeyResult]) -> dict[int, Decimal]:
    """KR scores at close: progress, except maintain KRs score the share of their check-ins inside the band."""
    values = defaultdict(list)
    maintain_ids = [kr.pk for kr in key_results if kr.kind == KeyResult.Kind.MAINTAIN]
    for kr_id, value in (
        CheckIn.objects.for_org(org).filter(key_result_id__in=maintain_ids).values_list("key_result_id", "value")
    ):
        values[kr_id].append(value)
    scores = {}
    for kr in key_results:
        common = {"baseline": kr.baseline, "target": kr.target, "band_low": kr.band_low, "band_high": kr.band_high}
        if kr.kind == KeyResult.Kind.MAINTAIN and values[kr.pk]:
            inside = sum(1 for v in values[kr.pk] if kr_progress(kind=kr.kind, current=v, **common).inside_band)
            score = inside / len(values[kr.pk])
        else:
            score = kr_progress(kind=kr.kind, current=kr.current, milestone_steps=kr.milestone_steps, **common).value
        scores[kr.pk] = Decimal(str(round(score, 2)))
    return scores


@transaction.atomic
def objective_close(
    *, org: Organization, actor: Membership, objective: Objective, retrospective: str | None = None
) -> Objective:
    """Close the objective: each KR gets its 0.0–1.0 score and is closed; an optional retrospective is kept.
    An archived objective stays archived (closing would re-score its KRs and bring it back onto the boards)."""
    same_org(org, actor, objective)
    if objective.status == Objective.Status.ARCHIVED:
        raise ValidationError({"status": "This objective is archived; an archived objective can't be closed."})
    if retrospective is not None and len(retrospective) > LONG_TEXT_MAX:
        raise ValidationError({"retrospective": f"Keep the retrospective under {LONG_TEXT_MAX:,} characters."})
    key_results = list(objective.key_results.all())
    scores = _close_scores(org, key_results)
    old_kr_statuses = [(kr, kr.status) for kr in key_results]
    for kr in key_results:
        kr.score = scores[kr.pk]
        kr.status = KeyResult.Status.CLOSED
    KeyResult.objects.bulk_update(key_results, ["score", "status"])
    old = objective.status
    objective.status = Objective.Status.CLOSED
    if retrospective is not None:
        objective.retrospective = retrospective
    objective.save(update_fields=["status", "retrospective", "updated_at"])
    audit(
        org=org,
        actor=actor,
        verb="objective.closed",
        target=objective,
        diff={"status": [old, objective.status], "scores": {kr.title: str(kr.score) for kr in key_results}},
    )
    emit_objective_status_changed(org=org, objective=objective, old_status=old, actor=actor)
    emit_key_results_status_changed(org=org, objective=objective, changes=old_kr_statuses, actor=actor)
    return objective


@transaction.atomic
def objective_archive(*, org: Organization, actor: Membership, objective: Objective) -> Objective:
    """Archive the objective: hidden from boards by default, kept with its history."""
    same_org(org, actor, objective)
    if objective.status != Objective.Status.ARCHIVED:
        old = objective.status
        objective.status = Objective.Status.ARCHIVED
        objective.save(update_fields=["status", "updated_at"])
        audit(org=org, actor=actor, verb="objective.archived", target=objective, diff={"status": [old, "archived"]})
        emit_objective_status_changed(org=org, objective=objective, old_status=old, actor=actor)
    return objective


@transaction.atomic
def objective_delete(*, org: Organization, actor: Membership, objective: Objective) -> None:
    """Delete the objective with its KRs, initiatives and check-ins. Aligned children lose their parent link."""
    same_org(org, actor, objective)
    audit(
        org=org,
        actor=actor,
        verb="objective.deleted",
        target=objective,
        diff={"title": objective.title, "key_results": list(objective.key_results.values_list("title", flat=True))},
    )
    objective.delete()
