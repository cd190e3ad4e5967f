"""OKR reads. Every read is scoped to the organization AND to what the member may see (DESIGN.md §4).

Privacy lives in ONE place, `visible_objectives()`: KRs, initiatives, boards, counts and the API all filter through
it. Page-level reads return plain dicts built from a constant number of flat queries (objectives/assembly.py).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Membership, Organization, Role, Team, TeamMember
from checkins.models import CheckIn
from initiatives.models import Initiative
from objectives import assembly, health
from objectives import board as okr_board
from objectives.models import Contribution, Cycle, KeyResult, Objective, Revision
from objectives.permissions import can_edit_initiative, can_edit_key_result, can_edit_objective
from objectives.progress import format_value
from objectives.services.objectives import objective_publish_blockers

LEVEL_ORDER = [Objective.Level.COMPANY, Objective.Level.TEAM, Objective.Level.PERSONAL]
CHECKIN_HISTORY_LIMIT = 200


# --- Privacy ------------------------------------------------------------------------------------------------------
def visibility_q(membership: Membership, prefix: str = "") -> Q:
    """The condition for "objective visible to membership", on the objective reached through `prefix`.

    ADMIN+ see everything; others see organization-wide objectives, their own, and team-only objectives of the teams
    they belong to. Private objectives: the owner and ADMIN+ only.
    """
    if membership.role >= Role.ADMIN:
        return Q()
    my_teams = TeamMember.objects.filter(organization_id=membership.organization_id, membership=membership).values(
        "team_id"
    )
    return (
        Q(**{f"{prefix}visibility": Objective.Visibility.ORGANIZATION})
        | Q(**{f"{prefix}owner_id": membership.id})
        | Q(**{f"{prefix}visibility": Objective.Visibility.TEAM, f"{prefix}team_id__in": my_teams})
    )


def visible_objectives(org: Organization, membership: Membership) -> QuerySet[Objective]:
    """All objectives of `org` that `membership` may see. THE privacy filter; everything else builds on it."""
    assert membership.organization_id == org.id
    return Objective.objects.for_org(org).filter(visibility_q(membership))


def visible_key_results(org: Organization, membership: Membership) -> QuerySet[KeyResult]:
    """KRs of visible objectives (a private objective hides its KRs too)."""
    assert membership.organization_id == org.id
    return KeyResult.objects.for_org(org).filter(visibility_q(membership, "objective__"))


def visible_initiatives(org: Organization, membership: Membership) -> QuerySet[Initiative]:
    """Initiatives under visible objectives."""
    assert membership.organization_id == org.id
    return Initiative.objects.for_org(org).filter(visibility_q(membership, "key_result__objective__"))


# --- Cycles -------------------------------------------------------------------------------------------------------
def cycle_list(*, org: Organization) -> QuerySet[Cycle]:
    """The org's cycles, newest first (cycles are not private)."""
    return Cycle.objects.for_org(org).select_related("parent")


def cycle_get(*, org: Organization, public_id) -> Cycle:
    """One cycle of the org, or 404."""
    return get_object_or_404(Cycle.objects.for_org(org).select_related("parent"), public_id=public_id)


def cycle_current(*, org: Organization, today: date | None = None) -> Cycle | None:
    """The active cycle covering today (shortest first: a quarter before its year), else the latest one."""
    today = today or assembly.Context.for_org(org).today
    cycles = Cycle.objects.for_org(org)
    active = (
        cycles.filter(status=Cycle.Status.ACTIVE, start_date__lte=today, end_date__gte=today)
        .order_by("end_date", "-start_date")
        .first()
    )
    return active or cycles.filter(status=Cycle.Status.ACTIVE).order_by("-start_date").first() or cycles.first()


def cycle_list_with_counts(*, org: Organization, membership: Membership) -> list[Cycle]:
    """The org's cycles, each with `objective_count`: the non-archived objectives this member can see."""
    visible = visibility_q(membership, "objectives__") & ~Q(objectives__status=Objective.Status.ARCHIVED)
    return list(
        Cycle.objects.for_org(org)
        .select_related("parent")
        .annotate(objective_count=Count("objectives", filter=visible))
    )


ALIGNMENT_CANDIDATES_LIMIT = 300


def alignment_candidates(*, org: Organization, membership: Membership, objective: Objective) -> list[Objective]:
    """Visible, open company/team objectives `objective` may align or contribute to: in its cycle or the year
    around it, not itself, company first, with their KRs prefetched. Two queries; capped (a picker, not a report).

    Loops are refused by the alignment service (with the path in words), not hidden here.
    """
    cycles = [c for c in (objective.cycle_id, objective.cycle.parent_id) if c]
    qs = (
        visible_objectives(org, membership)
        .filter(cycle_id__in=cycles, level__in=[Objective.Level.COMPANY, Objective.Level.TEAM])
        .exclude(status__in=[Objective.Status.ARCHIVED, Objective.Status.CLOSED])
        .exclude(pk=objective.pk)
        .order_by("position", "created_at")
        # Only what the pickers show: hundreds of full rows (timestamps, descriptions) cost more than the page.
        .only("id", "public_id", "title", "level")
        .prefetch_related(
            Prefetch(
                "key_results",
                queryset=KeyResult.objects.for_org(org)
                .order_by("position", "created_at")
                .only("id", "public_id", "title", "objective_id"),
            )
        )
    )[:ALIGNMENT_CANDIDATES_LIMIT]
    order = {level: n for n, level in enumerate(LEVEL_ORDER)}
    return sorted(qs, key=lambda o: order.get(o.level, 9))


# --- Single objects -----------------------------------------------------------------------------------------------
def objective_get(*, org: Organization, membership: Membership, public_id) -> Objective:
    """One visible objective, or 404 (invisible and other-org objectives look the same: absent)."""
    qs = visible_objectives(org, membership).select_related(
        "cycle", "team", "owner__user", "parent_objective", "parent_key_result__objective"
    )
    return get_object_or_404(qs, public_id=public_id)


def key_result_get(*, org: Organization, membership: Membership, public_id) -> KeyResult:
    """One KR of a visible objective, or 404."""
    qs = visible_key_results(org, membership).select_related("objective__cycle", "objective__owner", "owner__user")
    return get_object_or_404(qs, public_id=public_id)


def contribution_get(*, org: Organization, membership: Membership, public_id) -> Contribution:
    """One contribution edge whose contributing objective is visible, or 404."""
    qs = Contribution.objects.for_org(org).filter(visibility_q(membership, "objective__"))
    return get_object_or_404(qs.select_related("objective", "key_result__objective"), public_id=public_id)


# --- Pages --------------------------------------------------------------------------------------------------------
def objectives_matching(qs, q: str):
    """Objectives of `qs` whose title or description, or one of whose key results' titles, contains `q` (any case).
    `qs` is already the caller's visible set, so a search never reaches a private objective or its KRs."""
    krs = KeyResult.objects.filter(objective=OuterRef("pk"), title__icontains=q)  # tenancy: correlated to qs
    return qs.filter(Q(title__icontains=q) | Q(description__icontains=q) | Exists(krs))


def key_results_matching(qs, q: str):
    """Key results of `qs` whose title or description contains `q` (any case)."""
    return qs.filter(Q(title__icontains=q) | Q(description__icontains=q))


def _filter_objectives(qs, *, cycle=None, team=None, owner=None, status=None):
    if cycle is not None:
        qs = qs.filter(cycle=cycle)
    if team is not None:
        qs = qs.filter(team=team)
    if owner is not None:
        qs = qs.filter(owner=owner)
    qs = qs.filter(status=status) if status else qs.exclude(status=Objective.Status.ARCHIVED)
    return qs


def objective_rows(
    *, org: Organization, membership: Membership, cycle=None, team=None, owner=None, status=None, signal=None
) -> list[dict]:
    """Assembled objectives matching the filters (archived ones only when asked for). Constant queries."""
    visible = visible_objectives(org, membership)
    qs = _filter_objectives(visible, cycle=cycle, team=team, owner=owner, status=status)
    rows = list(assembly.objective_values(org, qs.order_by("position", "created_at")))
    objectives = assembly.assemble_objectives(org, rows, visible)
    if signal:
        objectives = [o for o in objectives if signal in o["signal_codes"]]
    return objectives


def cycle_board(
    *,
    org: Organization,
    membership: Membership,
    cycle: Cycle,
    filters: okr_board.BoardFilters = okr_board.NO_FILTERS,
    open_group: str | None = None,
) -> dict:
    """The cycle page: every visible objective matching the filters, grouped by level and team with counts,
    progress and signal counts per group; the rows (progress, owner, signals, KRs) of a first page of them, plus
    `open_group`'s first page. See objectives/board.py. Six queries whatever the size.

    Returns {cycle, today, expected, groups, objectives (the rendered rows), summary, filters, signal_choices}.
    """
    assert cycle.organization_id == org.id
    return okr_board.board(
        org,
        membership,
        cycle=cycle,
        filters=filters,
        open_group=open_group,
    )


def cycle_board_group(
    *,
    org: Organization,
    membership: Membership,
    cycle: Cycle,
    key: str,
    offset: int = 0,
    filters: okr_board.BoardFilters = okr_board.NO_FILTERS,
) -> dict | None:
    """One page (from `offset`) of one group of the cycle board, e.g. key 'team:<team id>'; None for a bad key."""
    assert cycle.organization_id == org.id
    parsed = okr_board.parse_group_key(org, key)
    if parsed is None:
        return None
    level, team_pk = parsed
    return okr_board.group_page(
        org,
        membership,
        cycle=cycle,
        key=key,
        level=level,
        team_pk=team_pk,
        offset=max(offset, 0),
        filters=filters,
    )


def cycle_export(
    *,
    org: Organization,
    membership: Membership,
    cycle: Cycle,
    filters: okr_board.BoardFilters = okr_board.NO_FILTERS,
) -> list[dict]:
    """Every objective the cycle board shows with these filters (same search and privacy), fully assembled with its
    key results, in the board's order. Constant queries whatever the size (objectives.export writes the CSV)."""
    assert cycle.organization_id == org.id
    ctx = assembly.Context.for_org(org)
    judged = okr_board.judge(org, membership, cycle=cycle, filters=filters, ctx=ctx)
    order = okr_board.board_order(judged)
    by_pk = {o["pk"]: o for o in okr_board.assemble_rows(org, membership, order, judged, ctx)}
    return [by_pk[pk] for pk in order if pk in by_pk]


def team_board(*, org: Organization, membership: Membership, team: Team, cycle: Cycle | None = None) -> dict:
    """The team page: the team's visible objectives in `cycle` (default: the current one) and its members."""
    assert team.organization_id == org.id
    cycle = cycle or cycle_current(org=org)
    members = [
        assembly.person(r["membership__public_id"], r["membership__user__name"], r["membership__user__email"])
        for r in TeamMember.objects.for_org(org)
        .filter(team=team, membership__is_active=True)
        .order_by("membership__user__name")
        .values("membership__public_id", "membership__user__name", "membership__user__email")
    ]
    board = (
        cycle_board(org=org, membership=membership, cycle=cycle, filters=okr_board.BoardFilters(team=team))
        if cycle
        else {"cycle": None, "groups": [], "objectives": [], "summary": okr_board.summary([])}
    )
    return {**board, "team": team, "members": members}


def initiative_dicts(rows, today) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = defaultdict(list)
    labels = dict(Initiative.Status.choices)
    for r in rows:
        out[r["key_result_id"]].append(
            {
                "pk": r["id"],
                "id": r["public_id"],
                "key_result_id": r["key_result__public_id"],
                "title": r["title"],
                "hypothesis": r["hypothesis"],
                "status": r["status"],
                "status_label": labels.get(r["status"], r["status"]),
                "due_date": r["due_date"],
                "progress": r["progress"],
                "owner": assembly.person(r["owner__public_id"], r["owner__user__name"], r["owner__user__email"]),
                "owner_pk": r["owner_id"],
                "signals": health.initiative_signals(
                    status=r["status"], has_owner=r["owner_id"] is not None, due_date=r["due_date"], today=today
                ),
            }
        )
    return out


INITIATIVE_VALUES = (
    "id",
    "public_id",
    "key_result_id",
    "key_result__public_id",
    "title",
    "hypothesis",
    "status",
    "due_date",
    "progress",
    "position",
    "created_at",
    "updated_at",
    "owner_id",
    "owner__public_id",
    "owner__user__name",
    "owner__user__email",
)


def objective_detail(*, org: Organization, membership: Membership, objective: Objective) -> dict:
    """The objective page: the objective with its KRs (progress, values, confidence, last check-in, signals,
    initiatives), its parent, its children, its contributions both ways, and what blocks publishing.

    `objective` must come from objective_get (visible, with its parent selected). Eight queries whatever the size.
    """
    assert objective.organization_id == org.id
    visible = visible_objectives(org, membership)
    parent_target = objective.parent_objective_id or (
        objective.parent_key_result.objective_id if objective.parent_key_result_id else None
    )
    related = Q(pk=objective.pk) | Q(parent_objective=objective) | Q(parent_key_result__objective=objective)
    if parent_target:
        related |= Q(pk=parent_target)
    rows = list(assembly.objective_values(org, visible.filter(related).order_by("position", "created_at")))
    ctx = assembly.Context.for_org(org)
    assembled = {o["pk"]: o for o in assembly.assemble_objectives(org, rows, visible, ctx)}
    me = assembled[objective.pk]
    initiatives = initiative_dicts(
        Initiative.objects.for_org(org)
        .filter(key_result__objective=objective)
        .order_by("position", "created_at")
        .values(*INITIATIVE_VALUES),
        ctx.today,
    )
    for kr in me["key_results"]:
        kr["initiatives"] = initiatives.get(kr["pk"], [])
    parent = None
    if parent_target and parent_target in assembled:
        parent_objective = assembled[parent_target]
        kr_id = objective.parent_key_result_id
        parent = {
            "kind": "key_result" if kr_id else "objective",
            "objective": parent_objective,
            "key_result": next((k for k in parent_objective["key_results"] if k["pk"] == kr_id), None),
        }
    children = [o for pk, o in assembled.items() if pk not in (objective.pk, parent_target)]
    # Edges in both directions; the objective at the other end must be visible too.
    edges = (
        Contribution.objects.for_org(org)
        .filter(
            Q(objective=objective, key_result__objective__in=visible.values("id"))
            | Q(key_result__objective=objective, objective__in=visible.values("id"))
        )
        .values(
            "public_id",
            "weight",
            "objective_id",
            "objective__public_id",
            "objective__title",
            "key_result__public_id",
            "key_result__title",
            "key_result__objective__public_id",
            "key_result__objective__title",
        )
    )
    contributions, contributors = [], []
    for e in edges:
        edge = {
            "id": e["public_id"],
            "weight": e["weight"],
            "objective": {"id": e["objective__public_id"], "title": e["objective__title"]},
            "key_result": {
                "id": e["key_result__public_id"],
                "title": e["key_result__title"],
                "objective": {"id": e["key_result__objective__public_id"], "title": e["key_result__objective__title"]},
            },
        }
        (contributions if e["objective_id"] == objective.pk else contributors).append(edge)
    blockers = []
    if objective.status == Objective.Status.DRAFT or any(kr["status"] == "draft" for kr in me["key_results"]):
        blockers = _blockers_from_assembled(objective, me)
    return {
        "objective": me,
        "instance": objective,
        "key_results": me["key_results"],
        "parent": parent,
        "children": children,
        "contributions": contributions,
        "contributors": contributors,
        "publish_blockers": blockers,
        "can_edit": can_edit_objective(membership, objective),
        "today": ctx.today,
    }


class _KRView:
    """Just enough of a KeyResult for objective_publish_blockers, read from an assembled dict (no queries)."""

    def __init__(self, kr: dict):
        self.title, self.kind = kr["title"], kr["kind"]
        self.baseline, self.target = kr["baseline"], kr["target"]
        self.owner_id = kr["owner_pk"]
        self.owner = Membership(is_active=kr["owner_active"], role=kr["owner_role"]) if kr["owner_pk"] else None


def _blockers_from_assembled(objective: Objective, assembled: dict) -> list[str]:
    return objective_publish_blockers(
        objective=objective, key_results=[_KRView(kr) for kr in assembled["key_results"] if kr["status"] != "closed"]
    )


def key_result_detail(*, org: Organization, membership: Membership, key_result: KeyResult) -> dict:
    """The KR page: the KR with progress and signals, its revision trail, initiatives and check-ins (newest first).

    `key_result` must come from key_result_get. Four queries whatever the size; at most 200 check-ins are listed.
    """
    assert key_result.organization_id == org.id
    ctx = assembly.Context.for_org(org)
    row = KeyResult.objects.for_org(org).filter(pk=key_result.pk).values(*assembly.KEY_RESULT_VALUES).get()
    initiative_rows = list(
        Initiative.objects.for_org(org)
        .filter(key_result=key_result)
        .order_by("position", "created_at")
        .values(*INITIATIVE_VALUES)
    )
    checkins = [
        {
            "id": c["public_id"],
            "value": c["value"],
            "display": "",
            "confidence": c["confidence"],
            "comment": c["comment"],
            "week_start": c["week_start"],
            "is_late": c["is_late"],
            "created_at": c["created_at"],
            "author": assembly.person(c["author__public_id"], c["author__user__name"], c["author__user__email"]),
        }
        for c in CheckIn.objects.for_org(org)
        .filter(key_result=key_result)
        .order_by("-created_at")
        .values(
            "public_id",
            "value",
            "confidence",
            "comment",
            "week_start",
            "is_late",
            "created_at",
            "author__public_id",
            "author__user__name",
            "author__user__email",
        )[:CHECKIN_HISTORY_LIMIT]
    ]
    counts = (
        sum(1 for i in initiative_rows if i["status"] != Initiative.Status.CANCELLED),
        sum(1 for i in initiative_rows if i["status"] == Initiative.Status.DONE),
    )
    recent = [{"value": c["value"]} for c in checkins[:3]]
    kr = assembly.build_key_result(row, ctx, counts, recent)
    if checkins:
        kr["last_checkin"] = checkins[0]
    for c in checkins:
        c["display"] = format_value(
            value=c["value"], unit=kr["unit"], unit_label=kr["unit_label"], decimals=kr["decimals"]
        )
    kr["initiatives"] = initiative_dicts(initiative_rows, ctx.today).get(key_result.pk, [])
    revisions = [
        {
            "id": r["public_id"],
            "changes": r["changes"],
            "rationale": r["rationale"],
            "created_at": r["created_at"],
            "author": assembly.person(r["author__public_id"], r["author__user__name"], r["author__user__email"]),
        }
        for r in Revision.objects.for_org(org)
        .filter(key_result=key_result)
        .order_by("-created_at")
        .values(
            "public_id",
            "changes",
            "rationale",
            "created_at",
            "author__public_id",
            "author__user__name",
            "author__user__email",
        )
    ]
    return {
        "key_result": kr,
        "instance": key_result,
        "objective": key_result.objective,
        "initiatives": kr["initiatives"],
        "checkins": checkins,
        "checkins_truncated": len(checkins) >= CHECKIN_HISTORY_LIMIT,
        "revisions": revisions,
        "can_edit": can_edit_key_result(membership, key_result),
        "today": ctx.today,
    }


def owned_live_work(*, org: Organization, membership: Membership) -> tuple[int, int]:
    """(active key results, open initiatives) `membership` owns: what needs a new owner when they can no longer
    check in (made a viewer, or removed). Two queries."""
    krs = KeyResult.objects.for_org(org).filter(owner=membership, status=KeyResult.Status.ACTIVE).count()
    initiatives = (
        Initiative.objects.for_org(org)
        .filter(owner=membership)
        .exclude(status__in=[Initiative.Status.DONE, Initiative.Status.CANCELLED])
        .count()
    )
    return krs, initiatives


__all__ = [
    "owned_live_work",
    "alignment_candidates",
    "cycle_list_with_counts",
    "can_edit_initiative",
    "cycle_board",
    "cycle_board_group",
    "cycle_current",
    "cycle_get",
    "cycle_list",
    "key_result_detail",
    "key_result_get",
    "objective_detail",
    "objective_get",
    "objective_rows",
    "team_board",
    "visibility_q",
    "visible_initiatives",
    "visible_key_results",
    "visible_objectives",
]
