"""Key result writes: create, update (with revisions of live KRs), activate, delete."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Membership, Organization
from objectives.models import KeyResult, Objective, Revision
from objectives.services._common import apply_changes, audit, check_person, display, same_org
from webhooks.events import emit_key_results_status_changed

KEY_RESULT_FIELDS = {
    "title",
    "description",
    "owner",
    "kind",
    "unit",
    "unit_label",
    "decimals",
    "baseline",
    "target",
    "band_low",
    "band_high",
    "milestone_steps",
    "weight",
    "confidence",
    "data_source",
    "position",
}
# Changing these on a live KR moves the goalposts: it needs a rationale and leaves a Revision (DESIGN.md §2).
REVISED_FIELDS = ("baseline", "target", "kind", "unit", "owner", "band_low", "band_high")


MAINTAIN_NEEDS_A_START = "Say where it stands today (the baseline), e.g. 180: a maintain key result starts from it."


def _validate(org: Organization, kr: KeyResult, errors: dict[str, str] | None = None) -> None:
    """Check `kr` as it would be saved; `errors` found by the caller come back with the rest, all at once."""
    check_person(org, kr.owner)
    kr.title = (kr.title or "").strip()
    if kr.milestone_steps in (None, ""):
        kr.milestone_steps = []
    kr.clean_fields(exclude=["objective", "organization"])  # also turns "12.5" into Decimal("12.5")
    errors = dict(errors or {})
    if kr.unit == KeyResult.Unit.CUSTOM and not (kr.unit_label or "").strip():
        errors["unit_label"] = "Name the custom unit, e.g. NPS or tickets."
    if kr.decimals is not None and kr.decimals > 4:
        errors["decimals"] = "Use at most 4 decimals."
    if kr.weight is not None and kr.weight <= 0:
        errors["weight"] = "The weight must be positive."
    if kr.confidence is not None and not 0 <= kr.confidence <= 10:
        errors["confidence"] = "Confidence goes from 0 to 10."
    if kr.kind == KeyResult.Kind.MAINTAIN:
        if kr.band_low is not None and kr.band_high is not None and kr.band_low > kr.band_high:
            errors["band_high"] = "The upper bound must not be below the lower bound."
        if kr.band_low is None and kr.band_high is None:
            errors["band_low"] = "A maintain key result needs a lower bound, an upper bound, or both."
    steps = kr.milestone_steps
    if not isinstance(steps, list) or not all(isinstance(s, str) and s.strip() for s in steps):
        errors["milestone_steps"] = "Steps are a list of non-empty titles."
    elif len(steps) > 50:
        errors["milestone_steps"] = "Use at most 50 steps."
    elif kr.kind == KeyResult.Kind.MILESTONE and kr.current is not None:
        done = len(steps) or 1
        if kr.current != int(kr.current) or not 0 <= kr.current <= done:
            errors["current"] = (
                f"A milestone's current value is how many of its {len(steps)} steps are done: a whole number 0–{done}."
                if steps
                else "A milestone without steps is either done (1) or not done (0)."
            )
    if errors:
        raise ValidationError(errors)
    kr.validate_constraints(exclude={"objective", "organization"})


@transaction.atomic
def key_result_create(
    *,
    org: Organization,
    actor: Membership,
    objective: Objective,
    title: str,
    kind: str = KeyResult.Kind.INCREASE,
    unit: str = KeyResult.Unit.NUMBER,
    unit_label: str = "",
    decimals: int = 0,
    baseline=None,
    target=None,
    current=None,
    band_low=None,
    band_high=None,
    milestone_steps: list | None = None,
    weight=1,
    owner: Membership | None = None,
    confidence: int | None = None,
    data_source: str = KeyResult.DataSource.MANUAL,
    description: str = "",
    position: int | None = None,
) -> KeyResult:
    """Add a KR to `objective`. It starts as a draft, or active straight away when the objective is already live
    and the KR has an owner. `current` defaults to the baseline (nothing has moved yet); a maintain KR needs one of
    the two, where it stands today, or it would show as outside its band (and score) before anybody measured it."""
    same_org(org, actor, objective)
    if objective.status in (Objective.Status.CLOSED, Objective.Status.ARCHIVED):
        raise ValidationError({"objective": "The objective is closed; add key results to an open one."})
    if position is None:
        position = objective.key_results.count()
    kr = KeyResult(
        organization=org,
        objective=objective,
        title=title,
        description=description or "",
        owner=owner,
        kind=kind,
        unit=unit,
        unit_label=unit_label or "",
        decimals=decimals if decimals is not None else 0,
        baseline=baseline if baseline is not None else 0,
        target=target if target is not None else 0,
        current=current if current is not None else (baseline if baseline is not None else 0),
        band_low=band_low,
        band_high=band_high,
        milestone_steps=milestone_steps if milestone_steps is not None else [],
        weight=weight if weight is not None else 1,
        confidence=confidence,
        data_source=data_source,
        position=position,
    )
    if objective.status == Objective.Status.ACTIVE and owner is not None:
        kr.status = KeyResult.Status.ACTIVE
    unstarted = kind == KeyResult.Kind.MAINTAIN and baseline is None and current is None
    _validate(org, kr, {"baseline": MAINTAIN_NEEDS_A_START} if unstarted else None)
    kr.save()
    audit(org=org, actor=actor, verb="key_result.created", target=kr, diff={"title": kr.title, "kind": kr.kind})
    return kr


def _restart_current(kr: KeyResult, diff: dict) -> None:
    """A change into or out of a milestone changes what `current` counts (steps done vs. the metric), so it starts
    again (0 steps, or the baseline) until the next check-in; fewer steps cap the steps done. Recorded in `diff`."""
    old_kind = diff["kind"][0] if "kind" in diff else kr.kind
    restart = None
    if old_kind != kr.kind and KeyResult.Kind.MILESTONE in (old_kind, kr.kind):
        restart = Decimal(0) if kr.kind == KeyResult.Kind.MILESTONE else kr.baseline
    elif kr.kind == KeyResult.Kind.MILESTONE and kr.current > (len(kr.milestone_steps or []) or 1):
        restart = Decimal(len(kr.milestone_steps or []) or 1)
    if restart is not None and restart != kr.current:
        diff["current"] = [display(kr.current), display(restart)]
        kr.current = restart


@transaction.atomic
def key_result_update(
    *, org: Organization, actor: Membership, key_result: KeyResult, rationale: str = "", **changes
) -> KeyResult:
    """Edit a KR. On an ACTIVE KR, changing baseline, target, kind, unit, owner or band needs a `rationale`
    and records a Revision {field: [old, new]} with who and when; without one → ValidationError on "rationale".
    An active KR cannot lose its owner."""
    same_org(org, actor, key_result)
    was_active = key_result.status == KeyResult.Status.ACTIVE
    diff = apply_changes(key_result, changes, KEY_RESULT_FIELDS)
    if not diff:
        return key_result
    _restart_current(key_result, diff)
    revised = {f: diff[f] for f in REVISED_FIELDS if f in diff}
    rationale = (rationale or "").strip()
    if was_active and revised and not rationale:
        raise ValidationError(
            {"rationale": f"Explain why {', '.join(revised)} of a live key result changes; the reason is kept."}
        )
    if was_active and key_result.owner_id is None:
        raise ValidationError({"owner": "A live key result needs an owner."})
    _validate(org, key_result)
    key_result.save()
    if was_active and revised:
        Revision.objects.create(
            organization=org, key_result=key_result, author=actor, changes=revised, rationale=rationale
        )
        audit(
            org=org,
            actor=actor,
            verb="key_result.revised",
            target=key_result,
            diff={**diff, "rationale": rationale},
        )
    else:
        audit(org=org, actor=actor, verb="key_result.updated", target=key_result, diff=diff)
    return key_result


@transaction.atomic
def key_result_activate(*, org: Organization, actor: Membership, key_result: KeyResult) -> KeyResult:
    """Make one KR live (e.g. one added to an already published objective). Refuses without an owner."""
    from objectives.services.objectives import key_result_blockers

    same_org(org, actor, key_result)
    if key_result.status == KeyResult.Status.ACTIVE:
        return key_result
    if key_result.status == KeyResult.Status.CLOSED:
        raise ValidationError({"status": f"KR '{key_result.title}' is closed."})
    problems = key_result_blockers(key_result=key_result)
    if problems:
        field = "owner" if key_result.owner_id is None else "target"
        raise ValidationError({field: problems})
    key_result.status = KeyResult.Status.ACTIVE
    key_result.save(update_fields=["status", "updated_at"])
    audit(org=org, actor=actor, verb="key_result.activated", target=key_result, diff={"status": ["draft", "active"]})
    emit_key_results_status_changed(org=org, changes=[(key_result, KeyResult.Status.DRAFT)], actor=actor)
    return key_result


@transaction.atomic
def key_result_delete(*, org: Organization, actor: Membership, key_result: KeyResult) -> None:
    """Delete a KR with its initiatives, check-ins and revisions."""
    same_org(org, actor, key_result)
    audit(
        org=org,
        actor=actor,
        verb="key_result.deleted",
        target=key_result,
        diff={"title": key_result.title, "objective": key_result.objective.title},
    )
    key_result.delete()
