"""The alignment map (DESIGN.md §1, §3, §10): the whole cascade of a cycle as a tree, coloured by status, with the
warnings leaders act on.

`alignment_map()` = `fetch_rows()` (a constant number of flat `.values_list()` queries: objectives, key results,
initiative counts per status, the last check-in values of the few KRs where "flat" can matter, contribution edges,
the owners and teams referenced) + `assemble()` (pure, O(n)): company objectives at the roots, each other objective
under the objective or the specific KR it aligns to, contributions as extra edges. Privacy is the same rule as
everywhere (`selectors.visibility_q`): an objective the member may not see is absent, and so is its title from its
children; people and teams are listed only when a visible node refers to them.

The default tree is compact (DESIGN.md §10: a 5,000-objective map in one response): signal *codes* per node, with a
top-level `signals` dictionary (code → label, level), owners and teams by id with top-level `people` / `teams`
dictionaries, initiative counts only for the statuses present. The reasons in words (`status_reason`, `reasons`)
are built on request (`detail=True`) or only for the nodes a page renders (`explain()`). Numbers are read as floats
and timestamps as epoch seconds straight from SQL: no Decimal/datetime/JSON decoding on the hot path.

The tree is plain dicts (orjson-serializable as is): the API returns it and the page renders a bounded part of it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, F, FloatField, Func, IntegerField, Q, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Extract, RowNumber

from accounts.models import Membership, Organization, Team
from checkins.models import CheckIn
from initiatives.models import Initiative
from objectives import health
from objectives.assembly import Context, person
from objectives.models import Contribution, Cycle, KeyResult, Objective
from objectives.progress import kr_progress, objective_progress
from objectives.selectors import visibility_q

PACE_CODES = frozenset({"on_track", "at_risk", "off_track"})
STATUS_ORDER = ("stale", "off_track", "at_risk", "on_track")  # stale overrides the pace (DESIGN.md §3)
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
# Every code a map node can carry → its label and colour level (each code has one level in objectives.health).
SIGNAL_LEVELS = {
    "on_track": health.GREEN,
    "at_risk": health.AMBER,
    "off_track": health.RED,
    "confidence_mismatch": health.AMBER,
    "watermelon": health.PURPLE,
    "task_in_disguise": health.AMBER,
    "stale": health.GREY,
    "no_work": health.AMBER,
    "unowned": health.RED,
    "focus": health.AMBER,
    "overdue": health.AMBER,
    "blocked": health.RED,
    ORPHAN: health.AMBER,
}
SIGNALS = {code: {"label": label, "level": SIGNAL_LEVELS[code]} for code, label in FILTER_LABELS.items()}
INITIATIVE_STATUSES = tuple(Initiative.Status.values)
CANCELLED, DONE = Initiative.Status.CANCELLED, Initiative.Status.DONE
ACTIVE = KeyResult.Status.ACTIVE
LEVEL_ORDER = {Objective.Level.COMPANY: 0, Objective.Level.TEAM: 1, Objective.Level.PERSONAL: 2}
STALE_ALL_REASON = "Every live key result is stale; the last reported status is out of date."

# Column order of the rows (tuples) fetch_rows returns; bench/map_urls.py's raw SQL returns the same tuples.
OBJECTIVE_COLUMNS = (
    "id",
    "public_id",
    "title",
    "level",
    "status",
    "cycle_id",
    "team_id",
    "owner_id",
    "parent_objective_id",
    "parent_key_result_id",
)
KEY_RESULT_COLUMNS = (
    "id",
    "public_id",
    "objective_id",
    "title",
    "kind",
    "unit",
    "baseline",  # float
    "target",  # float
    "current",  # float
    "band_low",  # float | None
    "band_high",  # float | None
    "steps",  # number of milestone steps (0: binary)
    "weight",  # float
    "confidence",
    "status",
    "last_checkin_epoch",  # float | None
    "created_epoch",  # float
    "owner_id",
)


def _float(name: str):
    return Cast(name, FloatField())


def _epoch(name: str):
    return Cast(Extract(name, "epoch"), FloatField())


KEY_RESULT_EXPRESSIONS = {
    "baseline_f": _float("baseline"),
    "target_f": _float("target"),
    "current_f": _float("current"),
    "band_low_f": _float("band_low"),
    "band_high_f": _float("band_high"),
    "weight_f": _float("weight"),
    "last_checkin_epoch": _epoch("last_checkin_at"),
    "created_epoch": _epoch("created_at"),
    # Progress needs only the number of a staged milestone's steps, not the JSON list itself.
    "steps": Func(
        F("milestone_steps"),
        template=(
            "CASE WHEN jsonb_typeof(%(expressions)s) = 'array' THEN jsonb_array_length(%(expressions)s) ELSE 0 END"
        ),
        output_field=IntegerField(),
    ),
}


# --- Queries ------------------------------------------------------------------------------------------------------
def scope_cycles(*, org: Organization, cycle: Cycle) -> dict[int, dict]:
    """The cycles a map of `cycle` shows: the cycle, the year around a quarter, the quarters inside a year.

    A quarter's teams align to the year's company KRs, so the year is part of the quarter's cascade.
    """
    cond = Q(pk=cycle.pk) | Q(parent_id=cycle.pk)
    if cycle.parent_id:
        cond |= Q(pk=cycle.parent_id)
    rows = Cycle.objects.for_org(org).filter(cond).values("id", "public_id", "name", "kind", "start_date", "end_date")
    return {r["id"]: r for r in rows}


def _objective_q(membership: Membership, cycle_ids, prefix: str = "") -> Q:
    """Objectives in the map (reached through `prefix`): in the scope cycles, not archived, visible."""
    return (
        Q(**{f"{prefix}cycle_id__in": list(cycle_ids)})
        & ~Q(**{f"{prefix}status": Objective.Status.ARCHIVED})
        & visibility_q(membership, prefix)
    )


@dataclass
class MapRows:
    """The flat facts of one map (tuples in OBJECTIVE_COLUMNS / KEY_RESULT_COLUMNS order)."""

    objectives: list[tuple]
    key_results: list[tuple]
    initiatives: list[tuple]  # (key_result_id, status, n)
    contributions: list[tuple]  # (objective_id, key_result_id, weight as float)
    recent: list[tuple]  # (key_result_id, value as float), newest first per KR; only for flat_candidates
    people: list[tuple]  # (id, public_id, name, email, timezone, checkin_weekday, checkin_hour)
    teams: list[tuple]  # (id, public_id, name)


def flat_candidates(initiatives: list[tuple], t: health.Thresholds) -> list[int]:
    """KRs where "flat over the last 3 check-ins" can change the watermelon verdict: ≥ 1 live initiative and at
    least the watermelon share of them done. Only their recent check-in values are read."""
    total: dict[int, int] = defaultdict(int)
    done: dict[int, int] = defaultdict(int)
    for kr_id, status, n in initiatives:
        if status != CANCELLED:
            total[kr_id] += n
            if status == DONE:
                done[kr_id] += n
    return sorted(kr for kr, n in total.items() if done[kr] / n >= t.watermelon_done_share)


def referenced_ids(objectives: list[tuple], key_results: list[tuple]) -> tuple[list[int], list[int]]:
    """(owner membership ids, team ids) the visible nodes refer to."""
    owners = {r[7] for r in objectives} | {r[17] for r in key_results}
    owners.discard(None)
    teams = {r[6] for r in objectives}
    teams.discard(None)
    return sorted(owners), sorted(teams)


def _tuples(qs) -> list[tuple]:
    """The rows of a `.values_list()` queryset, fetched in one go by the cursor: the SQL (and so the tenant and
    privacy filters) is the ORM's, but the per-row Python of QuerySet iteration (converters, 100-row chunks) is
    skipped; every selected column is already the Python type psycopg loads (floats, ints, str, UUID)."""
    try:
        sql, params = qs.query.sql_with_params()
    except EmptyResultSet:
        return []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def fetch_rows(org: Organization, membership: Membership, cycle_ids, t: health.Thresholds) -> MapRows:
    """At most seven flat queries whatever the size (the check-in, people and team queries are skipped when there is
    nothing to look up)."""
    objectives = _tuples(
        Objective.objects.for_org(org)
        .filter(_objective_q(membership, cycle_ids))
        .order_by("position", "created_at")
        .values_list(*OBJECTIVE_COLUMNS)
    )
    in_map = _objective_q(membership, cycle_ids, "objective__")
    key_results = _tuples(
        KeyResult.objects.for_org(org)
        .filter(in_map)
        .annotate(**KEY_RESULT_EXPRESSIONS)
        .order_by("position", "created_at")
        .values_list(
            "id",
            "public_id",
            "objective_id",
            "title",
            "kind",
            "unit",
            "baseline_f",
            "target_f",
            "current_f",
            "band_low_f",
            "band_high_f",
            "steps",
            "weight_f",
            "confidence",
            "status",
            "last_checkin_epoch",
            "created_epoch",
            "owner_id",
        )
    )
    initiatives = _tuples(
        Initiative.objects.for_org(org)
        .filter(_objective_q(membership, cycle_ids, "key_result__objective__"))
        .values("key_result_id", "status")
        .annotate(n=Count("id"))
        .values_list("key_result_id", "status", "n")
        .order_by()
    )
    contributions = _tuples(
        Contribution.objects.for_org(org)
        .filter(in_map)
        .annotate(weight_f=_float("weight"))
        .values_list("objective_id", "key_result_id", "weight_f")
        .order_by()
    )
    candidates = flat_candidates(initiatives, t)
    recent = (
        _tuples(
            CheckIn.objects.for_org(org)
            # One array parameter, however many candidates (an IN list of thousands costs more than the query).
            .filter(key_result_id__in=RawSQL("SELECT unnest(%s::bigint[])", (candidates,)))
            .annotate(
                rank=Window(RowNumber(), partition_by=[F("key_result_id")], order_by=F("created_at").desc()),
                value_f=_float("value"),
            )
            .filter(rank__lte=3)
            .order_by("key_result_id", "rank")
            .values_list("key_result_id", "value_f")
        )
        if candidates
        else []
    )
    owner_ids, team_ids = referenced_ids(objectives, key_results)
    people = (
        _tuples(
            Membership.objects.filter(organization=org, id__in=owner_ids).values_list(
                "id", "public_id", "user__name", "user__email", "timezone", "checkin_weekday", "checkin_hour"
            )
        )
        if owner_ids
        else []
    )
    teams = (
        _tuples(Team.objects.for_org(org).filter(id__in=team_ids).values_list("id", "public_id", "name"))
        if team_ids
        else []
    )
    return MapRows(objectives, key_results, initiatives, contributions, recent, people, teams)


# --- Assembly (pure: no queries) ----------------------------------------------------------------------------------
@dataclass
class MapIndex:
    """What the page and explain() need beyond the JSON tree (never serialized). Keys `id(node)`: node identity."""

    ctx: Context
    cycles: dict[int, dict]
    nodes: dict[int, dict]  # objective pk → node
    pk: dict[int, int] = field(default_factory=dict)  # id(objective node) → pk
    parent: dict[int, dict | None] = field(default_factory=dict)  # id(objective node) → parent objective node
    codes: dict[int, set] = field(default_factory=dict)  # id(objective node) → its codes, its KRs', orphan
    team: dict[int, int | None] = field(default_factory=dict)  # id(objective node) → team pk
    facts: dict[int, tuple] = field(default_factory=dict)  # id(node) → what explain() needs
    people: dict[int, dict] = field(default_factory=dict)  # membership pk → {id, name, initials}
    team_names: dict[int, str] = field(default_factory=dict)  # team pk → name
    key_results: int = 0
    initiatives: int = 0

    def children(self, node: dict) -> list[dict]:
        return [*node["children"], *(c for kr in node["key_results"] for c in kr["children"])]


def _status_code(codes: list[str]) -> str:
    for code in STATUS_ORDER:
        if code in codes:
            return code
    return "none"


def _epoch_dt(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def assemble(
    *,
    ctx: Context,
    cycle_pk: int,
    cycles: dict[int, dict],
    rows: MapRows,
    team: Team | None = None,
    signal: str | None = None,
    detail: bool = False,
) -> tuple[dict, MapIndex]:
    """Flat rows → (the map as a JSON-ready dict, its index). O(n)."""
    t = ctx.thresholds
    index = MapIndex(ctx=ctx, cycles=cycles, nodes={})
    people = index.people
    cutoffs: dict[int | None, float] = {None: ctx.stale_cutoff(None, None, None).timestamp()}
    for pk, public_id, name, email, tz, weekday, hour in rows.people:
        people[pk] = person(public_id, name, email)
        cutoffs[pk] = ctx.stale_cutoff(tz, weekday, hour).timestamp()
    owner_id = {pk: p["id"] for pk, p in people.items()}
    owner_id[None] = None
    teams = {pk: public_id for pk, public_id, _ in rows.teams}
    teams[None] = None
    index.team_names = {pk: name for pk, _, name in rows.teams}

    counts: dict[int, dict] = defaultdict(dict)
    n_initiatives = 0
    for kr_id, status, n in rows.initiatives:
        counts[kr_id][status] = n
        n_initiatives += n
    recent: dict[int, list] = defaultdict(list)
    for kr_id, value in rows.recent:
        recent[kr_id].append(value)
    flat = {kr for kr, values in recent.items() if len(values) >= 3 and len(set(values[:3])) == 1}

    expected_of = {pk: ctx.expected(c["start_date"], c["end_date"]) for pk, c in cycles.items()}
    cycle_of = {r[0]: r[5] for r in rows.objectives}
    facts = index.facts
    kr_nodes: dict[int, dict] = {}
    krs_by_objective: dict[int, list] = defaultdict(list)
    kr_signal_codes = health.kr_signal_codes
    for r in rows.key_results:
        (pk, public_id, objective_pk, title, kind, unit, baseline, target, current, low, high, steps, weight) = r[:13]
        confidence, status, last_epoch, created_epoch, owner = r[13:]
        progress = kr_progress(
            kind=kind,
            baseline=baseline,
            target=target,
            current=current,
            band_low=low,
            band_high=high,
            milestone_steps=range(steps) if steps else None,  # only its length counts
        ).value
        mine = counts.get(pk)
        if mine is None:
            mine, total, done = {}, 0, 0
        else:
            done = mine.get(DONE, 0)
            total = sum(mine.values()) - mine.get(CANCELLED, 0)
        expected = expected_of[cycle_of[objective_pk]]
        last = last_epoch if last_epoch is not None else created_epoch
        cutoff = cutoffs.get(owner, cutoffs[None])
        codes = kr_signal_codes(
            title=title,
            kind=kind,
            unit=unit,
            baseline=baseline,
            target=target,
            status=status,
            has_owner=owner is not None,
            progress=progress,
            expected=expected,
            confidence=confidence,
            initiatives_total=total,
            initiatives_done=done,
            flat=pk in flat,
            stale=last is not None and last < cutoff,
            t=t,
        )
        node = {
            "id": public_id,
            "title": title,
            "kind": kind,
            "kr_status": status,
            "owner": owner_id.get(owner),
            "confidence": confidence,
            "progress": round(progress, 4),
            "status": _status_code(codes),
            "signals": [c for c in codes if c not in PACE_CODES],
            "initiatives": mine,
            "weight": weight,
            "children": [],
            "contributors": [],
        }
        kr_nodes[pk] = node
        krs_by_objective[objective_pk].append(node)
        facts[id(node)] = (r, progress, expected, total, done, pk in flat, cutoff)

    by_owner: dict = defaultdict(int)
    by_team: dict = defaultdict(int)
    for r in rows.objectives:
        if r[7]:
            by_owner[(r[5], r[7])] += 1
        if r[6]:
            by_team[(r[5], r[6])] += 1

    nodes = index.nodes
    objective_signal_codes = health.objective_signal_codes
    for r in rows.objectives:
        pk, public_id, title, level, status, cycle_id, team_pk, owner, _, _ = r
        krs = krs_by_objective.get(pk, [])
        progress = objective_progress(items=[(kr["progress"], kr["weight"]) for kr in krs])
        codes = objective_signal_codes(
            status=status,
            has_owner=owner is not None,
            progress=progress,
            expected=expected_of[cycle_id],
            key_results_count=len(krs),
            owner_objectives_in_cycle=by_owner.get((cycle_id, owner), 0),
            team_objectives_in_cycle=by_team.get((cycle_id, team_pk), 0),
            t=t,
        )
        state = _status_code(codes)
        live = [kr for kr in krs if kr["kr_status"] == ACTIVE]
        if live and all(kr["status"] == "stale" for kr in live):
            state = "stale"  # nobody reported on any of its KRs for a while: its colour is out of date too
        own = list(dict.fromkeys(c for c in codes if c not in PACE_CODES))
        node = {
            "id": public_id,
            "title": title,
            "level": level,
            "objective_status": status,
            "cycle": cycles[cycle_id]["public_id"],
            "team": teams.get(team_pk),
            "owner": owner_id.get(owner),
            "progress": round(progress, 4),
            "status": state,
            "signals": own,
            "orphan": False,
            "aligned_outside": False,
            "context": False,  # True when shown only as the ancestor of a filter match
            "key_results": krs,
            "children": [],
            "contributes_to": [],
        }
        nodes[pk] = node
        key = id(node)
        index.pk[key] = pk
        index.parent[key] = None
        index.team[key] = team_pk
        index.codes[key] = {*own, *(c for kr in krs for c in kr["signals"])}
        facts[key] = (r, progress, expected_of[cycle_id], len(krs), by_owner, by_team)

    kr_owner = {r[0]: nodes[r[2]] for r in rows.key_results}
    roots = []
    for r in rows.objectives:
        node = nodes[r[0]]
        obj_parent, kr_parent = r[8], r[9]
        if kr_parent in kr_nodes:
            kr_nodes[kr_parent]["children"].append(node)
            index.parent[id(node)] = kr_owner[kr_parent]
        elif obj_parent in nodes and obj_parent != r[0]:
            nodes[obj_parent]["children"].append(node)
            index.parent[id(node)] = nodes[obj_parent]
        else:
            # Aligned to something outside this map (another cycle, or an objective this member cannot see: say
            # nothing about it), or to nothing at all: an orphan, unless it is a company objective.
            node["aligned_outside"] = bool(kr_parent or obj_parent)
            node["orphan"] = not node["aligned_outside"] and r[3] != Objective.Level.COMPANY
            if node["orphan"]:
                index.codes[id(node)].add(ORPHAN)
            roots.append(node)
    _break_loops(roots, index)
    for objective_pk, kr_pk, weight in rows.contributions:
        source, kr = nodes.get(objective_pk), kr_nodes.get(kr_pk)
        if source is None or kr is None:
            continue  # the other end is not on this map (another cycle, or not visible to this member)
        source["contributes_to"].append(
            {
                "key_result_id": kr["id"],
                "key_result_title": kr["title"],
                "objective_id": kr_owner[kr_pk]["id"],
                "weight": weight,
            }
        )
        kr["contributors"].append({"objective_id": source["id"], "objective_title": source["title"], "weight": weight})
    roots.sort(key=lambda n: LEVEL_ORDER.get(n["level"], 9))  # stable: position order within a level
    index.key_results = len(rows.key_results)
    index.initiatives = n_initiatives

    panel = warnings(index)
    shown = _filter(roots, index, team, signal) if (team or signal) else roots
    if detail:
        for node in nodes.values():
            _add_reasons(index, node)
            for kr in node["key_results"]:
                _add_reasons(index, kr)
    this = cycles[cycle_pk]
    result = {
        "cycle": {
            "id": this["public_id"],
            "name": this["name"],
            "kind": this["kind"],
            "start_date": this["start_date"],
            "end_date": this["end_date"],
            "includes": [{"id": c["public_id"], "name": c["name"]} for pk, c in cycles.items() if pk != cycle_pk],
        },
        "expected": round(expected_of[cycle_pk], 4),
        "counts": {
            "objectives": len(nodes),
            "key_results": index.key_results,
            "initiatives": n_initiatives,
            "shown": _count(shown, index),
        },
        "warnings": panel,
        "filters": {"team": team.public_id if team else None, "signal": signal},
        "legend": FILTER_LABELS,
        "signals": SIGNALS,
        "people": {str(p["id"]): {"name": p["name"], "initials": p["initials"]} for p in people.values()},
        "teams": {str(teams[pk]): name for pk, name in index.team_names.items()},
        "roots": shown,
    }
    return result, index


def explain(index: MapIndex, node: dict) -> tuple[str, list[health.Signal]]:
    """(status reason, signals other than the pace status, with reasons and hints) of one objective or KR node:
    the words behind its codes, built only for the nodes someone reads (objectives.health, same facts)."""
    ctx = index.ctx
    t = ctx.thresholds
    facts = index.facts[id(node)]
    if "kind" in node:  # a key result
        r, progress, expected, total, done, flat, cutoff = facts
        signals = health.kr_signals(
            title=r[3],
            kind=r[4],
            unit=r[5],
            baseline=r[6],
            target=r[7],
            status=r[14],
            has_owner=r[17] is not None,
            progress=progress,
            expected=expected,
            confidence=r[13],
            initiatives_total=total,
            initiatives_done=done,
            recent_values=[0, 0, 0] if flat else [],  # kr_signals only asks whether the last 3 are one value
            last_checkin_at=_epoch_dt(r[15]),
            created_at=_epoch_dt(r[16]),
            now=ctx.now,
            t=t,
            stale_cutoff=_epoch_dt(cutoff),
        )
        primary = health.primary_status(signals)
        reason = primary.reason if primary else ""
    else:
        r, progress, expected, n_krs, by_owner, by_team = facts
        pk, _, _, _, status, cycle_id, team_pk, owner, _, _ = r
        signals = health.objective_signals(
            status=status,
            has_owner=owner is not None,
            progress=progress,
            expected=expected,
            key_results_count=n_krs,
            owner_objectives_in_cycle=by_owner.get((cycle_id, owner), 0),
            team_objectives_in_cycle=by_team.get((cycle_id, team_pk), 0),
            team_name=index.team_names.get(team_pk, ""),
            t=t,
        )
        primary = health.primary_status(signals)
        reason = STALE_ALL_REASON if node["status"] == "stale" else (primary.reason if primary else "")
    return reason, [s for s in signals if s.code not in PACE_CODES]


def _add_reasons(index: MapIndex, node: dict) -> None:
    reason, signals = explain(index, node)
    reasons: dict[str, str] = {}
    for s in signals:
        reasons[s.code] = f"{reasons[s.code]} {s.reason}" if s.code in reasons else s.reason
    if node.get("orphan"):
        reasons[ORPHAN] = "A team or personal objective should align to a company objective or key result."
    node["status_reason"] = reason
    node["reasons"] = reasons


def _break_loops(roots: list[dict], index: MapIndex) -> None:
    """Alignment loops are refused by the services; should one slip in, lift its nodes to the roots."""
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        seen.add(id(node))
        stack.extend(index.children(node))
    if len(seen) == len(index.nodes):
        return
    for node in index.nodes.values():
        if id(node) in seen:
            continue
        parent = index.parent[id(node)]
        if parent is not None:
            parent["children"] = [c for c in parent["children"] if c is not node]
            for kr in parent["key_results"]:
                kr["children"] = [c for c in kr["children"] if c is not node]
        index.parent[id(node)] = None
        node["aligned_outside"] = True
        roots.append(node)
        stack = [node]
        while stack:
            n = stack.pop()
            seen.add(id(n))
            stack.extend(c for c in index.children(n) if id(c) not in seen)


def warnings(index: MapIndex) -> list[dict]:
    """The warnings panel: how many objectives / KRs carry each warning, over the whole (unfiltered) map."""
    kr_counts: dict[str, int] = defaultdict(int)
    obj_counts: dict[str, int] = defaultdict(int)
    for node in index.nodes.values():
        for code in node["signals"]:
            obj_counts[code] += 1
        if node["orphan"]:
            obj_counts[ORPHAN] += 1
        for kr in node["key_results"]:
            for code in kr["signals"]:
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


def _filter(roots: list[dict], index: MapIndex, team: Team | None, signal: str | None) -> list[dict]:
    """Keep the objectives that match (team, signal) and their ancestors (marked `context`), so the cascade above
    a match stays readable."""
    keep: set[int] = set()
    matched: set[int] = set()
    for node in index.nodes.values():
        key = id(node)
        if (team is None or index.team[key] == team.pk) and (signal is None or signal in index.codes[key]):
            matched.add(key)
            walk = node
            while walk is not None and id(walk) not in keep:
                keep.add(id(walk))
                walk = index.parent[id(walk)]
    for node in index.nodes.values():
        node["context"] = id(node) not in matched
        node["children"] = [c for c in node["children"] if id(c) in keep]
        for kr in node["key_results"]:
            kr["children"] = [c for c in kr["children"] if id(c) in keep]
    return [r for r in roots if id(r) in keep]


def _count(roots: list[dict], index: MapIndex) -> int:
    total, stack = 0, list(roots)
    while stack:
        node = stack.pop()
        total += 1
        stack.extend(index.children(node))
    return total


def alignment_map(
    *,
    org: Organization,
    membership: Membership,
    cycle: Cycle,
    team: Team | None = None,
    signal: str | None = None,
    detail: bool = False,
    now: datetime | None = None,
    with_index: bool = False,
):
    """The map of `cycle` for `membership`: {cycle, expected, counts, warnings, filters, legend, signals, people,
    teams, roots}; with `with_index`, (map, MapIndex) for the page (lazy groups, explain()).

    At most eight queries whatever the size. `team`/`signal` keep the matching objectives and their ancestors;
    warnings always count the whole map. `detail` adds `status_reason` and `reasons` (code → words) to every node.
    """
    assert cycle.organization_id == org.id and membership.organization_id == org.id
    ctx = Context.for_org(org, now)
    cycles = scope_cycles(org=org, cycle=cycle)
    rows = fetch_rows(org, membership, cycles, ctx.thresholds)
    result, index = assemble(
        ctx=ctx, cycle_pk=cycle.pk, cycles=cycles, rows=rows, team=team, signal=signal, detail=detail
    )
    return (result, index) if with_index else result


# --- The page: a bounded number of objectives per response, deeper groups load on demand -------------------------
PAGE_BUDGET = 60  # objectives rendered per response; a 5,000-objective org stays a fast, readable page


def trim_for_page(group: list[dict], budget: int | None = None) -> tuple[list[dict], list[dict]]:
    """What one response renders of a sibling `group`: → (the group's nodes shown, every objective rendered).

    At most `budget` objectives: the first ones of the group, then breadth first whole sibling groups while the
    budget lasts; a group that does not fit is marked on its owner (`deferred_children` on the objective or KR, with
    its size) and loads when opened; the caller offers the rest of the group itself (`group[len(shown):]`)."""
    budget = PAGE_BUDGET if budget is None else budget
    queue = group[: max(budget, 1)]
    top = list(queue)
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
    return top, queue


def children_of(index: MapIndex, *, objective_id=None, key_result_id=None) -> list[dict] | None:
    """The (filtered) children of one objective or KR of a map; None if absent."""
    for node in index.nodes.values():
        if objective_id is not None and str(node["id"]) == str(objective_id):
            return node["children"]
        if key_result_id is not None:
            for kr in node["key_results"]:
                if str(kr["id"]) == str(key_result_id):
                    return kr["children"]
    return None


# --- Display facts for the nodes a page renders (a few dozen; never the whole map) -------------------------------
STATUS_LABELS = {"on_track": "On track", "at_risk": "At risk", "off_track": "Off track", "stale": "Stale"}
DOT_ORDER = (
    (DONE, "done"),
    (Initiative.Status.IN_PROGRESS, "in progress"),
    (Initiative.Status.BLOCKED, "blocked"),
    (Initiative.Status.NOT_STARTED, "not started"),
    (CANCELLED, "cancelled"),
)
MAX_DOTS = 8


def _pct(value: float) -> int:
    return max(0, min(100, round(value * 100)))


def _initiatives_view(counts: dict) -> dict:
    """Dots (done first, at most MAX_DOTS), "3 initiatives: 2 done, 1 blocked", done/total (cancelled not bets)."""
    dots: list[str] = []
    for status, _ in DOT_ORDER:
        dots.extend([status] * counts.get(status, 0))
    total = sum(counts.values()) - counts.get(CANCELLED, 0)
    parts = [f"{counts[s]} {label}" for s, label in DOT_ORDER if counts.get(s)]
    noun = "initiative" if total == 1 else "initiatives"
    return {
        "dots": dots[:MAX_DOTS],
        "summary": f"{total} {noun}" + (": " + ", ".join(parts) if parts else ""),
        "total": total,
        "done": counts.get(DONE, 0),
    }


def decorate_for_page(index: MapIndex, objectives: list[dict]) -> None:
    """Add what the page's templates show to `objectives` and their KRs (`view`): status label and reason, signal
    chips with reasons and hints, owner, team and cycle names, percent, initiative dots; so the templates only
    print."""
    cycle_names = {c["public_id"]: c["name"] for c in index.cycles.values()}
    people = {p["id"]: p for p in index.people.values()}
    team_names = index.team_names
    for node in objectives:
        if "view" in node:
            continue
        reason, chips = explain(index, node)
        node["view"] = {
            "status_label": STATUS_LABELS.get(node["status"], "Not live"),
            "status_reason": reason,
            "chips": chips,
            "owner": people.get(node["owner"]),
            "team": team_names.get(index.team[id(node)]),
            "cycle": cycle_names.get(node["cycle"]),
            "pct": _pct(node["progress"]),
        }
        for kr in node["key_results"]:
            reason, chips = explain(index, kr)
            confidence = kr["confidence"]
            kr["view"] = {
                "status_label": STATUS_LABELS.get(kr["status"], "Not live"),
                "status_reason": reason,
                "chips": chips,
                "owner": people.get(kr["owner"]),
                "pct": _pct(kr["progress"]),
                "confidence_class": ""
                if confidence is None
                else "high"
                if confidence >= 7
                else "mid"
                if confidence >= 4
                else "low",
                **_initiatives_view(kr["initiatives"]),
            }
