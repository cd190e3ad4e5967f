"""Alignment edges: the primary parent (objective or KR) and weighted secondary contributions. No loops allowed."""

from collections import deque
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Membership, Organization
from objectives.models import Contribution, KeyResult, Objective
from objectives.services._common import audit, same_org


def _check_weight(weight) -> Decimal:
    try:
        value = Decimal(str(weight))
    except (ArithmeticError, ValueError):
        raise ValidationError({"weight": "Enter a number."}) from None
    if not value.is_finite() or value <= 0 or value >= 10000:
        raise ValidationError({"weight": "The weight must be a positive number below 10,000."})
    return value


def _alignment_graph(org: Organization) -> tuple[dict[int, set[int]], dict[int, str]]:
    """objective id → ids of the objectives it aligns or contributes to, for the whole org (two queries)."""
    parents: dict[int, set[int]] = {}
    titles: dict[int, str] = {}
    rows = Objective.objects.for_org(org).values_list(
        "id", "title", "parent_objective_id", "parent_key_result__objective_id"
    )
    for oid, title, parent_id, parent_kr_objective_id in rows:
        titles[oid] = title
        edges = parents.setdefault(oid, set())
        edges.update(x for x in (parent_id, parent_kr_objective_id) if x)
    for oid, target in Contribution.objects.for_org(org).values_list("objective_id", "key_result__objective_id"):
        parents.setdefault(oid, set()).add(target)
    return parents, titles


def check_no_loop(*, org: Organization, objective: Objective, new_parent: Objective) -> None:
    """Refuse an edge objective → new_parent when new_parent already (transitively) aligns to objective."""
    if new_parent.pk == objective.pk:
        raise ValidationError({"parent": "An objective cannot align to itself or to one of its own key results."})
    parents, titles = _alignment_graph(org)
    came_from: dict[int, int | None] = {new_parent.pk: None}
    queue = deque([new_parent.pk])
    while queue:
        node = queue.popleft()
        if node == objective.pk:
            path, step = [], node
            while step is not None:
                path.append(titles.get(step, "?"))
                step = came_from[step]
            chain = " → ".join(f"'{t}'" for t in reversed(path))
            raise ValidationError(
                {"parent": f"That would make a loop: {chain} already leads back to '{objective.title}'."}
            )
        for nxt in parents.get(node, ()):
            if nxt not in came_from:
                came_from[nxt] = node
                queue.append(nxt)


@transaction.atomic
def objective_set_alignment(
    *,
    org: Organization,
    actor: Membership,
    objective: Objective,
    parent_objective: Objective | None = None,
    parent_key_result: KeyResult | None = None,
) -> Objective:
    """Set (or clear, with neither) the primary parent: a whole objective or one specific KR, never both."""
    same_org(org, actor, objective)
    if parent_objective is not None and parent_key_result is not None:
        raise ValidationError({"parent": "Align to an objective or to one of its key results, not both."})
    for parent in (parent_objective, parent_key_result):
        if parent is not None and parent.organization_id != org.id:
            raise ValidationError({"parent": "Choose an objective of this organization."})
    target = parent_objective or (parent_key_result.objective if parent_key_result else None)
    if target is not None:
        # Lock the org's objectives against a concurrent alignment that would close the loop the other way.
        list(Objective.objects.for_org(org).select_for_update().values_list("id", flat=True))
        check_no_loop(org=org, objective=objective, new_parent=target)
    old = objective.parent_key_result or objective.parent_objective
    objective.parent_objective, objective.parent_key_result = parent_objective, parent_key_result
    objective.save(update_fields=["parent_objective", "parent_key_result", "updated_at"])
    new = parent_key_result or parent_objective
    audit(
        org=org,
        actor=actor,
        verb="objective.aligned",
        target=objective,
        diff={"parent": [str(old) if old else None, str(new) if new else None]},
    )
    return objective


@transaction.atomic
def contribution_add(
    *, org: Organization, actor: Membership, objective: Objective, key_result: KeyResult, weight=1
) -> Contribution:
    """Record that `objective` also contributes to `key_result` (a secondary, weighted edge on the map)."""
    same_org(org, actor, objective)
    _check_weight(weight)
    if key_result.organization_id != org.id:
        raise ValidationError({"key_result": "Choose a key result of this organization."})
    if key_result.objective_id == objective.pk:
        raise ValidationError({"key_result": "An objective cannot contribute to its own key result."})
    if objective.parent_key_result_id == key_result.pk:
        raise ValidationError({"key_result": "This key result is already the objective's primary parent."})
    list(Objective.objects.for_org(org).select_for_update().values_list("id", flat=True))
    try:
        check_no_loop(org=org, objective=objective, new_parent=key_result.objective)
    except ValidationError as exc:
        raise ValidationError({"key_result": exc.message_dict["parent"]}) from None
    contribution = Contribution(
        organization=org, objective=objective, key_result=key_result, weight=_check_weight(weight)
    )
    if Contribution.objects.for_org(org).filter(objective=objective, key_result=key_result).exists():
        raise ValidationError({"key_result": "This objective already contributes to that key result."})
    try:
        with transaction.atomic():
            contribution.save()
    except IntegrityError:
        raise ValidationError({"key_result": "This objective already contributes to that key result."}) from None
    audit(
        org=org,
        actor=actor,
        verb="contribution.added",
        target=objective,
        diff={"key_result": key_result.title, "weight": str(weight)},
    )
    return contribution


@transaction.atomic
def contribution_update(*, org: Organization, actor: Membership, contribution: Contribution, weight) -> Contribution:
    """Change the weight of a secondary contribution."""
    same_org(org, actor, contribution)
    old = contribution.weight
    contribution.weight = _check_weight(weight)
    contribution.save(update_fields=["weight", "updated_at"])
    if Decimal(old) != Decimal(contribution.weight):
        audit(
            org=org,
            actor=actor,
            verb="contribution.updated",
            target=contribution.objective,
            diff={"weight": [str(old), str(contribution.weight)]},
        )
    return contribution


@transaction.atomic
def contribution_remove(*, org: Organization, actor: Membership, contribution: Contribution) -> None:
    """Remove a secondary contribution edge."""
    same_org(org, actor, contribution)
    audit(
        org=org,
        actor=actor,
        verb="contribution.removed",
        target=contribution.objective,
        diff={"key_result": contribution.key_result.title},
    )
    contribution.delete()
