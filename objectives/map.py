"""The alignment map (DESIGN.md §1, §3, §10): the whole cascade of a cycle as a tree, coloured by status, with the
warnings leaders act on.

`alignment_map()` runs a constant number of flat `.values()` queries (cycles in scope, objectives, key results,
initiative counts per status, contribution edges, the last 3 check-in values per KR by a window function) and
assembles the tree in O(n) Python: company objectives at the roots, each other objective under the objective or the
specific KR it aligns to, contributions as extra edges. Privacy is the same rule as everywhere
(`selectors.visibility_q`): an objective the member may not see is absent, and so is its title from its children.

The tree is plain dicts (orjson-serializable as is): the API returns it and the page renders it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber

from accounts.models import Membership, Organization, Team
from checkins.models import CheckIn
from initiatives.models import Initiative
from objectives import health
from objectives.assembly import Context, person
from objectives.models import Contribution, Cycle, KeyResult, Objective
from objectives.progress import kr_progress, objective_progress
from objectives.selectors import visibility_q

PACE_CODES = frozenset({"on_track", "at_risk", "off_track"})
ORPHAN = "orphan"
# The warnings panel, in the order a leader reads it. "unlinked_work" needs Asana/Jira connections (not built yet).
WARNINGS = (
    ("watermelon", "Watermelons", "Work looks done (or confidence is high) while the number does not move."),
    ("task_in_disguise", "Tasks in disguise", "Key results that describe an activity rather than an outcome."),
    ("no_work", "No work behind it", "Active key results with no initiative meant to move them."),
    ("unowned", "Unowned", "Objectives and key results nobody owns."),
    ("stale", "Stale", "No check-in for two check-in periods; their colour is greyed out."),
    (ORPHAN, "Aligned to nothing", "Team and personal objectives that align to no objective or key result."),
)
FILTER_LABELS = {**health.LABELS, ORPHAN: "Aligned to nothing"}
FILTER_CODES = tuple(FILTER_LABELS)
INITIATIVE_STATUSES = tuple(Initiative.Status.values)

OBJECTIVE_FIELDS = (
    "id",
    "public_id",
    "title",
    "level",
    "status",
    "cycle_id",
    "team_id",
    "team__public_id",
    "team__name",
    "owner_id",
    "owner__public_id",
    "owner__user__name",
    "owner__user__email",
    "parent_objective_id",
    "parent_key_result_id",
)
KEY_RESULT_FIELDS = (
    "id",
    "public_id",
    "objective_id",
    "title",
    "kind",
    "unit",
    "baseline",
    "target",
    "current",
    "band_low",
    "band_high",
    "milestone_steps",
    "weight",
    "confidence",
    "status",
    "last_checkin_at",
    "created_at",
    "owner_id",
    "owner__public_id",
    "owner__user__name",
    "owner__user__email",
    "owner__timezone",
    "owner__checkin_weekday",
    "owner__checkin_hour",
)
LEVEL_ORDER = {Objective.Level.COMPANY: 0, Objective.Level.TEAM: 1, Objective.Level.PERSONAL: 2}


# --- Queries ------------------------------------------------------------------------------------------------------
def scope_cycles(*, org: Organization, cycle: Cycle) -> dict[int, dict]:
    """The cycles a map of `cycle` shows: the cycle, the year around a quarter, the quarters inside a year.

    A quarter's teams align to the year's company KRs, so the year is part of the quarter's cascade.
    """
    cond = Q(pk=cycle.pk) | Q(parent_id=cycle.pk)
    if cycle.parent_id:
        cond |= Q(pk=cycle.parent_id)
    rows = Cycle.objects.for_org(org).filter(cond).values("id", "public_id", "name", "start_date", "end_date")
    return {r["id"]: r for r in rows}


def _objective_q(membership: Membership, cycle_ids, prefix: str = "") -> Q:
    """Objectives in the map (reached through `prefix`): in the scope cycles, not archived, visible."""
    return (
        Q(**{f"{prefix}cycle_id__in": list(cycle_ids)})
        & ~Q(**{f"{prefix}status": Objective.Status.ARCHIVED})
        & visibility_q(membership, prefix)
    )


def _fetch(org: Organization, membership: Membership, cycle_ids) -> tuple[list, list, list, list, list]:
    """Five flat queries: objectives, KRs, initiative counts per (KR, status), contributions, last 3 values."""
    objectives = list(
        Objective.objects.for_org(org)
        .filter(_objective_q(membership, cycle_ids))
        .order_by("position", "created_at")
        .values(*OBJECTIVE_FIELDS)
    )
    in_map = _objective_q(membership, cycle_ids, "objective__")
    key_results = list(
        KeyResult.objects.for_org(org).filter(in_map).order_by("position", "created_at").values(*KEY_RESULT_FIELDS)
    )
    initiatives = list(
        Initiative.objects.for_org(org)
        .filter(_objective_q(membership, cycle_ids, "key_result__objective__"))
        .values("key_result_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    contributions = list(
        Contribution.objects.for_org(org).filter(in_map).values("objective_id", "key_result_id", "weight").order_by()
    )
    # The last 3 check-in values per KR (watermelon: "flat over the last 3 check-ins"), newest first.
    recent = list(
        CheckIn.objects.for_org(org)
        .filter(_objective_q(membership, cycle_ids, "key_result__objective__"))
        .annotate(rank=Window(RowNumber(), partition_by=[F("key_result_id")], order_by=F("created_at").desc()))
        .filter(rank__lte=3)
        .values("key_result_id", "value", "rank")
        .order_by()
    )
    return objectives, key_results, initiatives, contributions, recent


# --- Assembly -----------------------------------------------------------------------------------------------------
class _StaleClock:
    """health.is_stale, with the owner's cut-off (health.stale_cutoff) computed once per (timezone, weekday, hour)
    instead of once per KR: a map judges thousands of KRs whose owners share a handful of check-in slots, and the
    time-zone arithmetic dominated the map's cost."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.cutoffs: dict[tuple, datetime] = {}

    def cutoff(self, tz: str, weekday: int, hour: int) -> datetime:
        key = (tz, weekday, hour)
        found = self.cutoffs.get(key)
        if found is None:
            found = self.cutoffs[key] = health.stale_cutoff(
                now=self.ctx.now, weekday=weekday, hour=hour, tz=tz, t=self.ctx.thresholds
            )
        return found


def _signal_dict(s: health.Signal) -> dict:
    return {"code": s.code, "label": s.label, "level": s.level, "reason": s.reason}


def _status(signals: list[health.Signal]) -> tuple[str, str]:
    """(colour code, reason): stale overrides the pace status (DESIGN.md §3); "none" for drafts and closed ones."""
    primary = health.primary_status(signals)
    return (primary.code, primary.reason) if primary else ("none", "")


def _key_result(row: dict, ctx: Context, expected: float, counts: dict, recent: list, clock: _StaleClock) -> dict:
    prog = kr_progress(
        kind=row["kind"],
        baseline=row["baseline"],
        target=row["target"],
        current=row["current"],
        band_low=row["band_low"],
        band_high=row["band_high"],
        milestone_steps=row["milestone_steps"],
    )
    org = ctx.org
    total = sum(n for status, n in counts.items() if status != Initiative.Status.CANCELLED)
    done = counts.get(Initiative.Status.DONE, 0)
    # Stale is judged here with the shared clock (see _StaleClock); health judges everything else.
    signals = health.kr_signals(
        title=row["title"],
        kind=row["kind"],
        unit=row["unit"],
        baseline=row["baseline"],
        target=row["target"],
        status=row["status"],
        has_owner=row["owner_id"] is not None,
        progress=prog.value,
        expected=expected,
        confidence=row["confidence"],
        initiatives_total=total,
        initiatives_done=done,
        recent_values=recent,
        last_checkin_at=None,
        created_at=None,
        now=ctx.now,
        t=ctx.thresholds,
    )
    last = row["last_checkin_at"] or row["created_at"]
    if row["status"] == KeyResult.Status.ACTIVE and last is not None:
        weekday, hour = row["owner__checkin_weekday"], row["owner__checkin_hour"]
        cutoff = clock.cutoff(
            row["owner__timezone"] or org.timezone,
            weekday if weekday is not None else org.checkin_weekday,
            hour if hour is not None else org.checkin_hour,
        )
        if last < cutoff:
            signals.append(stale_signal(row["last_checkin_at"], ctx.thresholds))
    status, reason = _status(signals)
    return {
        "id": row["public_id"],
        "title": row["title"],
        "kind": row["kind"],
        "kr_status": row["status"],
        "owner": person(row["owner__public_id"], row["owner__user__name"], row["owner__user__email"]),
        "confidence": row["confidence"],
        "progress": round(prog.value, 4),
        "status": status,
        "status_reason": reason,
        "signals": [_signal_dict(s) for s in signals if s.code not in PACE_CODES],
        "initiatives": {"total": total, "done": done, **{s: counts.get(s, 0) for s in INITIATIVE_STATUSES}},
        "weight": float(row["weight"]),
        "children": [],
        "contributors": [],
    }


def stale_signal(last_checkin_at: datetime | None, t: health.Thresholds) -> health.Signal:
    """The stale signal in health.kr_signals' words."""
    since = "any check-in" if last_checkin_at is None else f"a check-in since {last_checkin_at:%d %b}"
    return health.Signal(
        code="stale",
        label=health.LABELS["stale"],
        level=health.GREY,
        reason=f"No {since} for {t.stale_periods} check-in periods; its status is out of date.",
    )


def _objective(row: dict, ctx: Context, cycle: dict, krs: list[dict], by_owner: dict, by_team: dict) -> dict:
    progress = objective_progress(items=[(kr["progress"], kr["weight"]) for kr in krs])
    signals = health.objective_signals(
        status=row["status"],
        has_owner=row["owner_id"] is not None,
        progress=progress,
        expected=ctx.expected(cycle["start_date"], cycle["end_date"]),
        key_results_count=len(krs),
        owner_objectives_in_cycle=by_owner.get((row["cycle_id"], row["owner_id"]), 0),
        team_objectives_in_cycle=by_team.get((row["cycle_id"], row["team_id"]), 0),
        team_name=row["team__name"] or "",
        t=ctx.thresholds,
    )
    status, reason = _status(signals)
    live = [kr for kr in krs if kr["kr_status"] == KeyResult.Status.ACTIVE]
    if live and all(kr["status"] == "stale" for kr in live):
        # Nobody has reported on any of its KRs for a while: the objective's colour is out of date too.
        status, reason = "stale", "Every live key result is stale; the last reported status is out of date."
    own = [_signal_dict(s) for s in signals if s.code not in PACE_CODES]
    return {
        "id": row["public_id"],
        "title": row["title"],
        "level": row["level"],
        "objective_status": row["status"],
        "cycle": {"id": cycle["public_id"], "name": cycle["name"]},
        "team": {"id": row["team__public_id"], "name": row["team__name"]} if row["team_id"] else None,
        "owner": person(row["owner__public_id"], row["owner__user__name"], row["owner__user__email"]),
        "progress": round(progress, 4),
        "status": status,
        "status_reason": reason,
        "signals": own,
        "signal_codes": sorted({s["code"] for s in own} | {s["code"] for kr in krs for s in kr["signals"]}),
        "orphan": False,
        "aligned_outside": False,
        "context": False,  # True when shown only as the ancestor of a filter match
        "key_results": krs,
        "children": [],
        "contributes_to": [],
        # Internal (stripped before the tree leaves the selector): pk links for filters and lazy subtrees.
        "_pk": row["id"],
        "_team_pk": row["team_id"],
        "_parent": None,
    }


def _focus_counts(rows: list[dict]) -> tuple[dict, dict]:
    by_owner: dict = defaultdict(int)
    by_team: dict = defaultdict(int)
    for r in rows:
        if r["owner_id"]:
            by_owner[(r["cycle_id"], r["owner_id"])] += 1
        if r["team_id"]:
            by_team[(r["cycle_id"], r["team_id"])] += 1
    return by_owner, by_team


def build_tree(
    *,
    ctx: Context,
    cycles: dict,
    objectives: list,
    key_results: list,
    initiatives: list,
    contributions: list,
    recent: list,
) -> tuple[list[dict], dict[int, dict]]:
    """Flat rows → (roots, objective nodes by pk). O(n); no queries."""
    counts: dict[int, dict] = defaultdict(dict)
    for r in initiatives:
        counts[r["key_result_id"]][r["status"]] = r["n"]
    values: dict[int, list] = defaultdict(list)
    for r in sorted(recent, key=lambda r: r["rank"]):
        values[r["key_result_id"]].append(r["value"])
    cycle_of = {r["id"]: r["cycle_id"] for r in objectives}
    clock = _StaleClock(ctx)
    expected = {pk: ctx.expected(c["start_date"], c["end_date"]) for pk, c in cycles.items()}
    krs_by_objective: dict[int, list] = defaultdict(list)
    kr_nodes: dict[int, dict] = {}
    for row in key_results:
        node = _key_result(
            row, ctx, expected[cycle_of[row["objective_id"]]], counts.get(row["id"], {}), values[row["id"]], clock
        )
        kr_nodes[row["id"]] = node
        krs_by_objective[row["objective_id"]].append(node)
    by_owner, by_team = _focus_counts(objectives)
    nodes = {
        r["id"]: _objective(r, ctx, cycles[r["cycle_id"]], krs_by_objective.get(r["id"], []), by_owner, by_team)
        for r in objectives
    }
    kr_owner = {row["id"]: nodes[row["objective_id"]] for row in key_results}
    roots = []
    for r in objectives:
        node = nodes[r["id"]]
        kr_parent, obj_parent = r["parent_key_result_id"], r["parent_objective_id"]
        if kr_parent in kr_nodes:
            kr_nodes[kr_parent]["children"].append(node)
            node["_parent"] = kr_owner[kr_parent]
        elif obj_parent in nodes and obj_parent != r["id"]:
            nodes[obj_parent]["children"].append(node)
            node["_parent"] = nodes[obj_parent]
        else:
            # Aligned to something outside this map (another cycle, or an objective this member cannot see: say
            # nothing about it), or to nothing at all: an orphan, unless it is a company objective.
            node["aligned_outside"] = bool(kr_parent or obj_parent)
            node["orphan"] = not node["aligned_outside"] and r["level"] != Objective.Level.COMPANY
            if node["orphan"]:
                node["signal_codes"] = sorted({*node["signal_codes"], ORPHAN})
            roots.append(node)
    _break_loops(roots, nodes)
    for c in contributions:
        source, kr = nodes.get(c["objective_id"]), kr_nodes.get(c["key_result_id"])
        if source is None or kr is None:
            continue  # the other end is not on this map (another cycle, or not visible to this member)
        target = kr_owner[c["key_result_id"]]
        weight = float(c["weight"])
        source["contributes_to"].append(
            {"key_result_id": kr["id"], "key_result_title": kr["title"], "objective_id": target["id"], "weight": weight}
        )
        kr["contributors"].append({"objective_id": source["id"], "objective_title": source["title"], "weight": weight})
    roots.sort(key=lambda n: LEVEL_ORDER.get(n["level"], 9))  # stable: position order within a level
    return roots, nodes


def _children(node: dict) -> list[dict]:
    return [*node["children"], *(c for kr in node["key_results"] for c in kr["children"])]


def _break_loops(roots: list[dict], nodes: dict[int, dict]) -> None:
    """Alignment loops are refused by the services; should one slip in, lift its nodes to the roots."""
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        seen.add(node["_pk"])
        stack.extend(_children(node))
    for pk, node in nodes.items():
        if pk in seen:
            continue
        parent = node["_parent"]
        if parent is not None:
            parent["children"] = [c for c in parent["children"] if c is not node]
            for kr in parent["key_results"]:
                kr["children"] = [c for c in kr["children"] if c is not node]
        node["_parent"] = None
        node["aligned_outside"] = True
        roots.append(node)
        stack = [node]
        while stack:
            n = stack.pop()
            seen.add(n["_pk"])
            stack.extend(c for c in _children(n) if c["_pk"] not in seen)


def warnings(nodes: dict[int, dict]) -> list[dict]:
    """The warnings panel: how many objectives / KRs carry each warning, over the whole (unfiltered) map."""
    kr_counts: dict[str, int] = defaultdict(int)
    obj_counts: dict[str, int] = defaultdict(int)
    for node in nodes.values():
        for code in {s["code"] for s in node["signals"]}:
            obj_counts[code] += 1
        if node["orphan"]:
            obj_counts[ORPHAN] += 1
        for kr in node["key_results"]:
            for code in {s["code"] for s in kr["signals"]}:
                kr_counts[code] += 1
    return [
        {
            "code": code,
            "label": label,
            "description": description,
            "key_results": kr_counts.get(code, 0),
            "objectives": obj_counts.get(code, 0),
            "count": kr_counts.get(code, 0) + obj_counts.get(code, 0),
        }
        for code, label, description in WARNINGS
    ]


def _filter(roots: list[dict], nodes: dict[int, dict], team: Team | None, signal: str | None) -> list[dict]:
    """Keep the objectives that match (team, signal) and their ancestors (marked `context`), so the cascade above
    a match stays readable."""
    keep: set[int] = set()
    matched: set[int] = set()
    for pk, node in nodes.items():
        if (team is None or node["_team_pk"] == team.pk) and (signal is None or signal in node["signal_codes"]):
            matched.add(pk)
            walk = node
            while walk is not None and walk["_pk"] not in keep:
                keep.add(walk["_pk"])
                walk = walk["_parent"]
    for node in nodes.values():
        node["context"] = node["_pk"] not in matched
        node["children"] = [c for c in node["children"] if c["_pk"] in keep]
        for kr in node["key_results"]:
            kr["children"] = [c for c in kr["children"] if c["_pk"] in keep]
    return [r for r in roots if r["_pk"] in keep]


def _strip(nodes: dict[int, dict]) -> None:
    for node in nodes.values():
        for key in ("_pk", "_team_pk", "_parent"):
            node.pop(key, None)


def alignment_map(
    *,
    org: Organization,
    membership: Membership,
    cycle: Cycle,
    team: Team | None = None,
    signal: str | None = None,
    now: datetime | None = None,
    keep_internal: bool = False,
) -> dict:
    """The map of `cycle` for `membership`: {cycle, expected, roots, warnings, counts, filters, legend}.

    Seven queries whatever the size. `team`/`signal` keep the matching objectives and their ancestors; warnings
    always count the whole map. `keep_internal` leaves the `_pk`/`_parent` links on the nodes (the page uses them
    to load subtrees lazily); the API strips them.
    """
    assert cycle.organization_id == org.id and membership.organization_id == org.id
    ctx = Context.for_org(org, now)
    cycles = scope_cycles(org=org, cycle=cycle)
    objectives, key_results, initiatives, contributions, recent = _fetch(org, membership, cycles)
    roots, nodes = build_tree(
        ctx=ctx,
        cycles=cycles,
        objectives=objectives,
        key_results=key_results,
        initiatives=initiatives,
        contributions=contributions,
        recent=recent,
    )
    panel = warnings(nodes)
    shown = _filter(roots, nodes, team, signal) if (team or signal) else roots
    result = {
        "cycle": {
            "id": cycle.public_id,
            "name": cycle.name,
            "kind": cycle.kind,
            "start_date": cycle.start_date,
            "end_date": cycle.end_date,
            "includes": [{"id": c["public_id"], "name": c["name"]} for c in cycles.values() if c["id"] != cycle.pk],
        },
        "expected": round(ctx.expected(cycle.start_date, cycle.end_date), 4),
        "counts": {
            "objectives": len(nodes),
            "key_results": len(key_results),
            "initiatives": sum(r["n"] for r in initiatives),
            "shown": _count(shown),
        },
        "warnings": panel,
        "filters": {"team": team.public_id if team else None, "signal": signal},
        "legend": FILTER_LABELS,
        "roots": shown,
    }
    if keep_internal:
        result["_nodes"] = nodes
    else:
        _strip(nodes)
    return result


def _count(roots: list[dict]) -> int:
    total, stack = 0, list(roots)
    while stack:
        node = stack.pop()
        total += 1
        stack.extend(_children(node))
    return total


# --- The page: a bounded number of objectives per response, deeper groups load on demand -------------------------
PAGE_BUDGET = 150  # objectives rendered per response; a 5,000-objective org stays a fast, readable page


def trim_for_page(groups: list[list[dict]], budget: int = PAGE_BUDGET) -> None:
    """Walk the tree breadth first from `groups` (lists of sibling objectives) and render whole sibling groups
    while the budget lasts; a group that does not fit is marked on its owner (`deferred_children` on the objective
    or KR, with its size) and loads when opened. The first group is always rendered."""
    queue = [node for group in groups for node in group]
    shown = len(queue)
    for node in queue:  # the queue grows while we walk it: breadth first
        direct = node["children"]
        if direct:
            if shown + len(direct) <= budget:
                shown += len(direct)
                queue.extend(direct)
            else:
                node["deferred_children"] = len(direct)
        for kr in node["key_results"]:
            kids = kr["children"]
            if not kids:
                continue
            if shown + len(kids) <= budget:
                shown += len(kids)
                queue.extend(kids)
            else:
                kr["deferred_children"] = len(kids)


def children_of(result: dict, *, objective_id=None, key_result_id=None) -> list[dict] | None:
    """The (filtered) children of one objective or KR of a map built with keep_internal=True; None if absent."""
    for node in result["_nodes"].values():
        if objective_id is not None and str(node["id"]) == str(objective_id):
            return node["children"]
        if key_result_id is not None:
            for kr in node["key_results"]:
                if str(kr["id"]) == str(key_result_id):
                    return kr["children"]
    return None
