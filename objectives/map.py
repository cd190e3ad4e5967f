"""The alignment map (DESIGN.md §1, §3, §10): the whole cascade of a cycle as a tree, coloured by status, with the
warnings leaders act on.

`alignment_map()` (the API) returns every objective and KR of the cycle as one JSON tree. One query reads the
visible objectives (SQL built by the ORM, so the tenant and privacy filters are `selectors.visibility_q`'s), one
reads their KRs with what PostgreSQL stores or judges for each: the stored `progress`, the signal codes as a bit
mask (objectives.health_sql, the same rules as objectives.health) and the initiative counts per status. Python only
nests rows into dicts (no per-KR rule runs here) and orjson writes them. objectives.map_page draws the page from
the same queries and functions, reading the KRs of the objectives it draws only.

Privacy: an objective the member may not see is absent, and so is its title from its children and contributors;
people and teams are listed only when a visible node refers to them. The default tree is compact (signal codes
per node, labels and levels once in `signals`; owners and teams by id with top-level `people` / `teams`; ids as
text); the reasons in words (`status_reason`, `reasons`) are built on request (`detail=True`) or only for the
nodes a page renders (`explain()`, objectives.health on the same facts).
"""

from __future__ import annotations

import gc
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from accounts.models import Membership, Organization, Team
from initiatives.models import Initiative
from objectives import health, health_sql
from objectives.assembly import Context, person
from objectives.map_queries import (
    COUNTS_AT,
    FACTS_AT,
    INITIATIVE_STATUSES,
    ORDER_AT,
    contribution_rows,
    judge_params,
    key_result_rows,
    objective_rows,
    people_rows,
    scope_cycles,
    team_rows,
)
from objectives.models import Cycle, KeyResult, Objective

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
WARNING_KR_CODES = tuple(code for code, _, _ in WARNINGS if code != ORPHAN)
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
CANCELLED, DONE = Initiative.Status.CANCELLED, Initiative.Status.DONE
ACTIVE = KeyResult.Status.ACTIVE
LEVEL_ORDER = {Objective.Level.COMPANY: 0, Objective.Level.TEAM: 1, Objective.Level.PERSONAL: 2}
STALE_ALL_REASON = "Every live key result is stale; the last reported status is out of date."
STALE_BIT = health_sql.BIT["stale"]


@lru_cache(maxsize=2048)
def judged(mask: int) -> tuple[str, tuple[str, ...]]:
    """A KR's code mask → (map colour, its codes other than the pace status), in objectives.health's order."""
    codes = health_sql.decode(mask)
    return _status_code(codes), tuple(c for c in codes if c not in PACE_CODES)


def _status_code(codes) -> str:
    for code in STATUS_ORDER:
        if code in codes:
            return code
    return "none"


def _epoch_dt(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


# --- The tree (pure: no queries) ----------------------------------------------------------------------------------
@dataclass
class MapIndex:
    """What the page and explain() need beyond the JSON tree (never serialized). Keys `id(node)`: node identity."""

    ctx: Context
    cycles: dict[int, dict]
    nodes: dict[int, dict] = field(default_factory=dict)  # objective pk → node
    pk: dict[int, int] = field(default_factory=dict)  # id(objective node) → pk
    parent: dict[int, dict | None] = field(default_factory=dict)  # id(objective node) → parent objective node
    codes: dict[int, set] = field(default_factory=dict)  # id(objective node) → its codes, its KRs', orphan
    team: dict[int, int | None] = field(default_factory=dict)  # id(objective node) → team pk
    facts: dict[int, tuple] = field(default_factory=dict)  # id(node) → what explain() needs
    # KR pk → the objectives aligned to it (the same list object as the KR node's "children", when it has a node)
    kr_children: dict[int, list] = field(default_factory=dict)
    # objective pk → the pks of its KRs that have children (in KR order on the page)
    kr_groups: dict[int, list] = field(default_factory=dict)
    kr_nodes: dict[int, dict] = field(default_factory=dict)  # KR pk → node (the KRs that have one)
    deferred: dict[int, int] = field(default_factory=dict)  # KR pk → size of its children group the page defers
    people: dict[int, dict] = field(default_factory=dict)  # membership pk → {id, name, initials}
    team_names: dict[int, str] = field(default_factory=dict)  # team pk → name
    team_ids: dict[int | None, str | None] = field(default_factory=dict)  # team pk → public id
    by_owner: dict = field(default_factory=dict)  # (cycle pk, owner pk) → objectives on the map
    by_team: dict = field(default_factory=dict)  # (cycle pk, team pk) → objectives on the map
    kr_warnings: dict[str, int] = field(default_factory=dict)  # code → KRs carrying it, whole map
    objective_warnings: dict[str, int] = field(default_factory=dict)  # code → objectives carrying it, whole map
    shown: int = 0  # objectives left by the filters
    key_results: int = 0
    initiatives: int = 0  # not cancelled

    def children(self, node: dict) -> list[dict]:
        """Every objective aligned to `node` (to it as a whole, then to each of its KRs)."""
        groups = self.kr_groups.get(self.pk[id(node)], ())
        return [*node["children"], *(c for kr in groups for c in self.kr_children[kr])]

    def set_people(self, rows) -> None:
        self.people = {pk: person(public_id, name, email) for pk, public_id, name, email in rows}

    def set_teams(self, rows) -> None:
        self.team_names = {pk: name for pk, _, name in rows}
        self.team_ids = {pk: public_id for pk, public_id, _ in rows}


def skeleton(ctx: Context, cycles: dict[int, dict], objectives: list[tuple]) -> MapIndex:
    """One node per objective row (OBJECTIVE_COLUMNS), with its identity and place; what is judged (progress,
    status, signals, KRs, owner, team) is filled in by judge_objectives() for the nodes that need it."""
    index = MapIndex(ctx=ctx, cycles=cycles)
    cycle_ids = {pk: c["public_id"] for pk, c in cycles.items()}
    nodes, pks, parents, teams = index.nodes, index.pk, index.parent, index.team
    by_owner: dict = defaultdict(int)
    by_team: dict = defaultdict(int)
    for r in objectives:
        pk, public_id, title, level, status, cycle_id, team_pk, owner = r[:8]
        node = {
            "id": public_id,
            "title": title,
            "level": level,
            "objective_status": status,
            "cycle": cycle_ids[cycle_id],
            "team": None,
            "owner": None,
            "progress": 0.0,
            "status": "none",
            "signals": [],
            "orphan": False,
            "aligned_outside": False,
            "context": False,  # True when shown only as the ancestor of a filter match
            "key_results": [],
            "children": [],
            "contributes_to": [],
        }
        nodes[pk] = node
        key = id(node)
        pks[key] = pk
        parents[key] = None
        teams[key] = team_pk
        if owner:
            by_owner[(cycle_id, owner)] += 1
        if team_pk:
            by_team[(cycle_id, team_pk)] += 1
    index.by_owner, index.by_team = by_owner, by_team
    index.shown = len(nodes)
    return index


def judge_objectives(index: MapIndex, objectives: list[tuple], rollup: dict[int, tuple]) -> None:
    """Fill in what is judged of these objective rows' nodes, from their KRs' roll-up `rollup`: objective pk →
    (KR nodes, KR count, weighted progress, union of the KRs' codes, every live KR stale)."""
    ctx, t = index.ctx, index.ctx.thresholds
    expected_of = {pk: ctx.expected(c["start_date"], c["end_date"]) for pk, c in index.cycles.items()}
    owner_id = {pk: p["id"] for pk, p in index.people.items()}
    team_ids = index.team_ids
    by_owner, by_team = index.by_owner, index.by_team
    nodes, codes_of, facts = index.nodes, index.codes, index.facts
    objective_signal_codes = health.objective_signal_codes
    empty = ([], 0, 0.0, (), False)
    for r in objectives:
        pk, _, _, _, status, cycle_id, team_pk, owner = r[:8]
        kr_nodes, n_krs, progress, kr_codes, all_stale = rollup.get(pk, empty)
        expected = expected_of[cycle_id]
        codes = objective_signal_codes(
            status=status,
            has_owner=owner is not None,
            progress=progress,
            expected=expected,
            key_results_count=n_krs,
            owner_objectives_in_cycle=by_owner.get((cycle_id, owner), 0),
            team_objectives_in_cycle=by_team.get((cycle_id, team_pk), 0),
            t=t,
        )
        own = list(dict.fromkeys(c for c in codes if c not in PACE_CODES))
        node = nodes[pk]
        node["team"] = team_ids.get(team_pk)
        node["owner"] = owner_id.get(owner)
        node["progress"] = round(progress, 4) + 0.0  # + 0.0: never -0.0 (stored progress of 0 / a negative span)
        # Stale when nobody reported on any of its live KRs for a while: its colour is out of date too.
        node["status"] = "stale" if all_stale else _status_code(codes)
        node["signals"] = own
        node["key_results"] = kr_nodes
        key = id(node)
        codes_of[key] = {*own, *kr_codes, *((ORPHAN,) if node["orphan"] else ())}
        facts[key] = (r, progress, expected, n_krs)


def link(index: MapIndex, objectives: list[tuple], kr_owner: dict[int, int]) -> list[dict]:
    """Place every objective under the KR (`kr_owner`: KR pk → its objective's pk, for the KRs on the map) or the
    objective it aligns to; → the roots (company objectives first), orphans marked."""
    nodes, kr_children, parents = index.nodes, index.kr_children, index.parent
    kr_groups = index.kr_groups = defaultdict(list)
    roots = []
    for r in objectives:
        pk, obj_parent, kr_parent = r[0], r[8], r[9]
        node = nodes[pk]
        owner = kr_owner.get(kr_parent) if kr_parent else None
        if owner is not None and owner in nodes:
            group = kr_children.get(kr_parent)
            if group is None:
                group = kr_children[kr_parent] = []
            if not group:
                kr_groups[owner].append(kr_parent)
            group.append(node)
            parents[id(node)] = nodes[owner]
        elif obj_parent in nodes and obj_parent != pk:
            nodes[obj_parent]["children"].append(node)
            parents[id(node)] = nodes[obj_parent]
        else:
            # Aligned to something outside this map (another cycle, or an objective this member cannot see: say
            # nothing about it), or to nothing at all: an orphan, unless it is a company objective.
            node["aligned_outside"] = bool(kr_parent or obj_parent)
            node["orphan"] = not node["aligned_outside"] and r[3] != Objective.Level.COMPANY
            if node["orphan"]:
                index.codes.setdefault(id(node), set()).add(ORPHAN)
            roots.append(node)
    _break_loops(roots, index)
    roots.sort(key=lambda n: LEVEL_ORDER.get(n["level"], 9))  # stable: position order within a level
    return roots


def _break_loops(roots: list[dict], index: MapIndex) -> None:
    """Alignment loops are refused by the services; should one slip in, lift its nodes to the roots."""
    parents = index.parent
    reaches: dict[int, bool | None] = {}  # id(node) → its parent chain ends at a root (None: on the walk now)
    for node in index.nodes.values():
        key, walk = id(node), []
        while key not in reaches:
            reaches[key] = None
            walk.append(key)
            parent = parents[key]
            if parent is None:
                ok = True
                break
            key = id(parent)
        else:
            ok = bool(reaches[key])  # None: the walk met itself, a loop
        for key in walk:
            reaches[key] = ok
    seen = {key for key, ok in reaches.items() if ok}
    if len(seen) == len(index.nodes):
        return
    for node in index.nodes.values():
        if id(node) in seen:
            continue
        parent = parents[id(node)]
        if parent is not None:
            parent["children"][:] = [c for c in parent["children"] if c is not node]
            for kr in index.kr_groups.get(index.pk[id(parent)], ()):
                index.kr_children[kr][:] = [c for c in index.kr_children[kr] if c is not node]
        parents[id(node)] = None
        node["aligned_outside"] = True
        roots.append(node)
        stack = [node]
        while stack:
            n = stack.pop()
            seen.add(id(n))
            stack.extend(c for c in index.children(n) if id(c) not in seen)


def count_objective_warnings(index: MapIndex, objectives: list[tuple]) -> None:
    """Objectives carrying a warning of the panel, over the whole map: unowned (health's rule, which only an
    objective without an owner can meet) and aligned to nothing."""
    t = index.ctx.thresholds
    unowned = sum(
        1
        for r in objectives
        if r[7] is None
        and "unowned"
        in health.objective_signal_codes(
            status=r[4], has_owner=False, progress=0.0, expected=0.0, key_results_count=0, t=t
        )
    )
    orphans = sum(1 for node in index.nodes.values() if node["orphan"])
    index.objective_warnings = {"unowned": unowned, ORPHAN: orphans}


def warnings(index: MapIndex) -> list[dict]:
    """The warnings panel: how many objectives / KRs carry each warning, over the whole (unfiltered) map."""
    kr_counts, obj_counts = index.kr_warnings, index.objective_warnings
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
    a match stays readable. `signal` needs every node's codes (judge_objectives)."""
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
        node["children"][:] = [c for c in node["children"] if id(c) in keep]
    for group in index.kr_children.values():
        group[:] = [c for c in group if id(c) in keep]
    for groups in index.kr_groups.values():
        groups[:] = [kr for kr in groups if index.kr_children[kr]]
    index.shown = len(keep)
    return [r for r in roots if id(r) in keep]


def result(index: MapIndex, cycle_pk: int, roots: list[dict], team: Team | None, signal: str | None) -> dict:
    """The map document: {cycle, expected, counts, warnings, filters, legend, signals, people, teams, roots}."""
    panel = warnings(index)
    shown = _filter(roots, index, team, signal) if (team or signal) else roots
    cycles = index.cycles
    this = cycles[cycle_pk]
    return {
        "cycle": {
            "id": this["public_id"],
            "name": this["name"],
            "kind": this["kind"],
            "start_date": this["start_date"],
            "end_date": this["end_date"],
            "includes": [{"id": c["public_id"], "name": c["name"]} for pk, c in cycles.items() if pk != cycle_pk],
        },
        "expected": round(index.ctx.expected(this["start_date"], this["end_date"]), 4),
        "counts": {
            "objectives": len(index.nodes),
            "key_results": index.key_results,
            "initiatives": index.initiatives,
            "shown": index.shown,
        },
        "warnings": panel,
        "filters": {"team": str(team.public_id) if team else None, "signal": signal},
        "legend": FILTER_LABELS,
        "signals": SIGNALS,
        "people": {p["id"]: {"name": p["name"], "initials": p["initials"]} for p in index.people.values()},
        "teams": {index.team_ids[pk]: name for pk, name in index.team_names.items()},
        "roots": shown,
    }


def key_result_nodes(index: MapIndex, rows: list[tuple], *, facts: bool = False) -> dict[int, tuple]:
    """KR rows (key_result_rows) → their nodes, grouped per objective with the objective's roll-up: objective pk →
    (KR nodes, count, weighted progress, union of codes, every live KR stale). With `facts`, keeps each row for
    explain(). Sets index.kr_warnings (KRs carrying each warning) and index.initiatives (not cancelled).

    Run after link(): a KR without children or contributors shares one empty tuple (JSON `[]`), and nodes with
    the same initiative counts share one dict; ~15,000 fewer allocations on a year's map."""
    owner_id = {pk: p["id"] for pk, p in index.people.items()}
    kr_children, kr_nodes, facts_of = index.kr_children, index.kr_nodes, index.facts
    per_objective: dict[int, list] = {}
    masks: dict[int, int] = defaultdict(int)
    by_counts: dict[tuple, dict] = {}
    n_initiatives = 0
    at, end, statuses = COUNTS_AT, COUNTS_AT + len(INITIATIVE_STATUSES), INITIATIVE_STATUSES
    none = ()
    for r in rows:
        pk, public_id, objective_pk, title, kind, status, owner, confidence, progress, weight, mask = r[:at]
        state, codes = judged(mask)
        masks[mask] += 1
        counts = r[at:end]
        initiatives = by_counts.get(counts)
        if initiatives is None:
            initiatives = by_counts[counts] = {s: n for s, n in zip(statuses, counts, strict=True) if n}
        n_initiatives += sum(counts) - counts[-1]  # cancelled ones are not bets
        node = {
            "id": public_id,
            "title": title,
            "kind": kind,
            "kr_status": status,
            "owner": owner_id.get(owner),
            "confidence": confidence,
            "progress": round(progress, 4) + 0.0,  # never -0.0 (PostgreSQL's 0 / a negative span)
            "status": state,
            "signals": codes,
            "initiatives": initiatives,
            "weight": weight,
            "children": kr_children.get(pk, none),
            "contributors": none,
        }
        kr_nodes[pk] = node
        if facts:
            facts_of[id(node)] = r
        group = per_objective.get(objective_pk)
        if group is None:
            per_objective[objective_pk] = [[node], progress * weight, weight, mask, status == ACTIVE, state == "stale"]
        else:
            group[0].append(node)
            group[1] += progress * weight
            group[2] += weight
            group[3] |= mask
            if status == ACTIVE:
                group[4] += 1
                group[5] += state == "stale"
    kr_warnings: dict[str, int] = defaultdict(int)
    for mask, n in masks.items():
        for code in health_sql.decode(mask):
            kr_warnings[code] += n
    index.kr_warnings = {code: kr_warnings[code] for code in WARNING_KR_CODES if code in kr_warnings}
    index.initiatives = n_initiatives
    return {
        pk: (krs, len(krs), total / weight if weight else 0.0, judged(mask)[1], live > 0 and stale == live)
        for pk, (krs, total, weight, mask, live, stale) in per_objective.items()
    }


def add_contributions(index: MapIndex, rows: list[tuple]) -> None:
    """Attach the contribution edges whose two ends are on the map: `contributes_to` on the objective and, when the
    KR has a node, `contributors` on the KR."""
    nodes, kr_nodes = index.nodes, index.kr_nodes
    for objective_pk, kr_pk, kr_objective_pk, kr_public_id, kr_title, weight in rows:
        source, target = nodes.get(objective_pk), nodes.get(kr_objective_pk)
        if source is None or target is None:
            continue  # the other end is not on this map (another cycle, or not visible to this member)
        edge = {"key_result_id": kr_public_id, "key_result_title": kr_title, "objective_id": target["id"]}
        source["contributes_to"].append({**edge, "weight": weight})
        kr = kr_nodes.get(kr_pk)
        if kr is not None:
            entry = {"objective_id": source["id"], "objective_title": source["title"], "weight": weight}
            kr["contributors"] = [*kr["contributors"], entry]


@contextmanager
def gc_paused():
    """No cyclic garbage collection while tens of thousands of dicts are built: with nothing freed in between,
    CPython's collector would rescan them again and again (~30% of building a year's map). The tree holds no
    reference cycles, so reference counting frees it all the same."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# --- The whole map (the API) --------------------------------------------------------------------------------------
def alignment_map(
    *,
    org: Organization,
    membership: Membership,
    cycle: Cycle,
    team: Team | None = None,
    signal: str | None = None,
    detail: bool = False,
    now: datetime | None = None,
) -> dict:
    """The map of `cycle` for `membership` (result()'s document), every objective and KR of the cycle (and of its
    year / quarters). Seven queries whatever the size. `team`/`signal` keep the matching objectives and their
    ancestors; warnings always count the whole map. `detail` adds `status_reason` and `reasons` (code → words) to
    every node."""
    assert cycle.organization_id == org.id and membership.organization_id == org.id
    ctx = Context.for_org(org, now)
    cycles = scope_cycles(org=org, cycle=cycle)
    objectives = objective_rows(org, membership, cycles)
    ids = [r[0] for r in objectives]
    kr_rows = key_result_rows(judge_params(org, ctx, cycles, ids), facts=detail) if ids else []
    people = people_rows(org, {r[7] for r in objectives} | {r[6] for r in kr_rows})
    teams = team_rows(org, {r[6] for r in objectives})
    contributions = contribution_rows(org, membership, cycles) if ids else []
    with gc_paused():
        index = skeleton(ctx, cycles, objectives)
        index.set_people(people)
        index.set_teams(teams)
        index.key_results = len(kr_rows)
        roots = link(index, objectives, {r[0]: r[2] for r in kr_rows})
        judge_objectives(index, objectives, key_result_nodes(index, kr_rows, facts=detail))
        count_objective_warnings(index, objectives)
        add_contributions(index, contributions)
        if detail:
            for node in index.nodes.values():
                add_reasons(index, node)
                for kr in node["key_results"]:
                    add_reasons(index, kr)
        return result(index, cycle.pk, roots, team, signal)


# --- Reasons in words, for the nodes someone reads ----------------------------------------------------------------
# health_sql judges stale against the owner's slot; a KR without an owner has none (and is never active: a check
# constraint), so it is never stale there, nor here.
NEVER = datetime.min.replace(tzinfo=UTC)


def explain(index: MapIndex, node: dict) -> tuple[str, list[health.Signal]]:
    """(status reason, signals other than the pace status, with reasons and hints) of one objective or KR node:
    the words behind its codes, from the same facts (objectives.health), built only for the nodes someone reads."""
    ctx = index.ctx
    t = ctx.thresholds
    if "kind" in node:  # a key result: its row (KR_COLUMNS + KR_FACT_COLUMNS)
        r = index.facts[id(node)]
        expected = index.facts[id(index.nodes[r[2]])][2]
        unit, baseline, target, total, done, last_epoch, cutoff, flat = r[FACTS_AT:]
        signals = health.kr_signals(
            title=r[3],
            kind=r[4],
            unit=unit,
            baseline=baseline,
            target=target,
            status=r[5],
            has_owner=r[6] is not None,
            progress=r[8],
            expected=expected,
            confidence=r[7],
            initiatives_total=total,
            initiatives_done=done,
            recent_values=[0, 0, 0] if flat else [],  # kr_signals only asks whether the last 3 are one value
            last_checkin_at=_epoch_dt(last_epoch),
            created_at=_epoch_dt(r[ORDER_AT + 1]),
            now=ctx.now,
            t=t,
            stale_cutoff=_epoch_dt(cutoff) or NEVER,
        )
        primary = health.primary_status(signals)
        reason = primary.reason if primary else ""
    else:
        r, progress, expected, n_krs = index.facts[id(node)]
        status, cycle_id, team_pk, owner = r[4:8]
        signals = health.objective_signals(
            status=status,
            has_owner=owner is not None,
            progress=progress,
            expected=expected,
            key_results_count=n_krs,
            owner_objectives_in_cycle=index.by_owner.get((cycle_id, owner), 0),
            team_objectives_in_cycle=index.by_team.get((cycle_id, team_pk), 0),
            team_name=index.team_names.get(team_pk, ""),
            t=t,
        )
        primary = health.primary_status(signals)
        reason = STALE_ALL_REASON if node["status"] == "stale" else (primary.reason if primary else "")
    return reason, [s for s in signals if s.code not in PACE_CODES]


def add_reasons(index: MapIndex, node: dict) -> None:
    reason, signals = explain(index, node)
    reasons: dict[str, str] = {}
    for s in signals:
        reasons[s.code] = f"{reasons[s.code]} {s.reason}" if s.code in reasons else s.reason
    if node.get("orphan"):
        reasons[ORPHAN] = "A team or personal objective should align to a company objective or key result."
    node["status_reason"] = reason
    node["reasons"] = reasons
