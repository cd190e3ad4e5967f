"""The alignment map page (DESIGN.md §1, §10): the skeleton of the whole map, the full facts of a bounded part.

A leader's page shows the warnings panel, the counts and the filters over the whole map, but draws a few dozen
objectives at a time (PAGE_BUDGET; deeper groups and the rest of a level load when opened). So one response reads:
every visible objective of the map as a short row (the tree's shape, orphans, unowned objectives), one aggregate
row from PostgreSQL for every KR of the map (KR count, initiatives, how many KRs carry each warning; one row per
objective instead when a signal filter needs each objective's codes), and only for the objectives it draws their
KRs, contributions, owners and teams (objectives.map's queries and rules, so the page and the API agree). Its cost
grows with the number of objectives (one short row each), not with the number of KRs or initiatives.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from accounts.models import Membership, Organization, Team
from objectives import health_sql, map_html
from objectives import map as okr_map
from objectives import map_queries as queries
from objectives.assembly import Context
from objectives.models import Cycle, KeyResult

PAGE_BUDGET = 60  # objectives rendered per response; a 5,000-objective org stays a fast, readable page

# The page's view of every KR without reading them: per chosen objective (ROLLUP_SQL) or for all of them at once
# (TOTALS_SQL, one row): KR count, weighted progress (weights are positive: a check constraint), the union of the
# codes, whether every live KR is stale, how many KRs carry each warning of the panel, initiatives (not cancelled).
_ROLLUP_SQL = """
WITH k AS MATERIALIZED (
    SELECT kr.objective_id, kr.status, kr.progress, kr.weight::float8 AS weight, kr.initiatives_total,
           {codes} AS mask
    FROM objectives_keyresult kr
    JOIN unnest(%(ids)s::bigint[]) AS chosen(id) ON chosen.id = kr.objective_id
    JOIN objectives_objective o ON o.id = kr.objective_id
    {joins}
    WHERE kr.organization_id = %(org)s
)
SELECT {key}, count(*), sum(progress * weight) / sum(weight), bit_or(mask),
       bool_and(mask & {stale} <> 0) FILTER (WHERE status = 'active'),
       {warnings}, sum(initiatives_total)::int
FROM k {group}
"""
_WARNING_COUNTS = ", ".join(
    f"count(*) FILTER (WHERE mask & {health_sql.BIT[c]} <> 0)" for c in okr_map.WARNING_KR_CODES
)
ROLLUP_SQL, TOTALS_SQL = (
    _ROLLUP_SQL.format(
        codes=health_sql.KR_CODES_SQL,
        joins=health_sql.JOINS_SQL,
        stale=okr_map.STALE_BIT,
        warnings=_WARNING_COUNTS,
        key=key,
        group=group,
    )
    for key, group in (("objective_id", "GROUP BY objective_id"), ("NULL", ""))
)


def map_page(
    *,
    org: Organization,
    membership: Membership,
    cycle: Cycle,
    team: Team | None = None,
    signal: str | None = None,
    objective_id=None,
    key_result_id=None,
    roots_from: int = 0,
    panel: bool = True,
    now: datetime | None = None,
) -> dict | None:
    """What one response of the map page renders: {map (objectives.map.result()'s document; `people` / `teams`
    only for what is drawn), nodes (the sibling group drawn, with display facts), more (siblings left),
    more_from}; None when the group asked for (`objective_id` / `key_result_id`: the objectives aligned to it) is
    not on this member's map. Eight queries whatever the size (nine when a KR's group is asked for).

    `panel=False` leaves out the whole-map KR totals (the warnings panel, the KR and initiative counts: document
    `warnings` and those counts are None), for responses that do not show them or load them later (map_panel()):
    one query and most of the database time less. A signal filter judges every objective anyway, so with a
    `signal` the panel always comes along."""
    assert cycle.organization_id == org.id and membership.organization_id == org.id
    ctx = Context.for_org(org, now)
    cycles = queries.scope_cycles(org=org, cycle=cycle)
    objectives = queries.objective_rows(org, membership, cycles, parent_krs=True)
    ids = [r[0] for r in objectives]
    params = queries.judge_params(org, ctx, cycles, ids) if ids else {}
    with okr_map.gc_paused():  # tens of thousands of short-lived dicts (see alignment_map)
        index = okr_map.skeleton(ctx, cycles, objectives)
        roots = okr_map.link(index, objectives, {r[9]: r[10] for r in objectives if r[9] and r[10]})
        order = {r[9]: (r[11], r[12]) for r in objectives if r[9]}
        for groups in index.kr_groups.values():
            groups.sort(key=order.__getitem__)
        with_panel = panel or signal is not None
        if with_panel:
            _summarize(index, objectives, params, by_objective=signal is not None)
            okr_map.count_objective_warnings(index, objectives)
        document = okr_map.result(index, cycle.pk, roots, team, signal)
        if not with_panel:
            document["warnings"] = None
            document["counts"].update(key_results=None, initiatives=None)

        if objective_id is not None or key_result_id is not None:
            group = _group(org, index, objective_id=objective_id, key_result_id=key_result_id)
            if group is None:
                return None
            offset = 0
        else:
            group, offset = document["roots"], roots_from
        nodes, rendered = trim_for_page(group[offset:], index=index)
        _read_rendered(org, membership, index, objectives, rendered, params)
        document["people"] = {p["id"]: {"name": p["name"], "initials": p["initials"]} for p in index.people.values()}
        document["teams"] = {index.team_ids[pk]: name for pk, name in index.team_names.items()}
        return {
            "map": document,
            "nodes": nodes,
            "more_from": offset + len(nodes),
            "more": max(0, len(group) - offset - len(nodes)),
        }


def map_panel(*, org: Organization, membership: Membership, cycle: Cycle, now: datetime | None = None) -> dict:
    """The warnings panel and the counts over this member's whole map, for the page to load after its first paint:
    {warnings (objectives.map.warnings()), counts {objectives, key_results, initiatives}}. Four queries: cycles,
    objectives (the tree's shape gives the objectives aligned to nothing), check-in slots, the KR totals."""
    assert cycle.organization_id == org.id and membership.organization_id == org.id
    ctx = Context.for_org(org, now)
    cycles = queries.scope_cycles(org=org, cycle=cycle)
    objectives = queries.objective_rows(org, membership, cycles, parent_krs=True)
    params = queries.judge_params(org, ctx, cycles, [r[0] for r in objectives]) if objectives else {}
    with okr_map.gc_paused():
        index = okr_map.skeleton(ctx, cycles, objectives)
        okr_map.link(index, objectives, {r[9]: r[10] for r in objectives if r[9] and r[10]})
        _summarize(index, objectives, params, by_objective=False)
        okr_map.count_objective_warnings(index, objectives)
    return {
        "warnings": okr_map.warnings(index),
        "counts": {"objectives": len(index.nodes), "key_results": index.key_results, "initiatives": index.initiatives},
    }


def _summarize(index: okr_map.MapIndex, objectives: list[tuple], params: dict, *, by_objective: bool) -> None:
    """Whole-map KR facts from PostgreSQL: totals (one row), or with `by_objective` one row per objective, whose
    codes the signal filter needs (then every objective is judged)."""
    if not objectives:
        return
    rows = queries.fetch(ROLLUP_SQL if by_objective else TOTALS_SQL, params)
    warned: dict[str, int] = defaultdict(int)
    rollup = {}
    for objective_pk, n_krs, progress, mask, all_stale, *counts in rows:
        if not n_krs:
            continue  # TOTALS_SQL over no KR at all
        for code, n in zip(okr_map.WARNING_KR_CODES, counts[:-1], strict=True):
            warned[code] += n
        index.key_results += n_krs
        index.initiatives += counts[-1]
        rollup[objective_pk] = ([], n_krs, progress, okr_map.judged(mask)[1], bool(all_stale))
    index.kr_warnings = dict(warned)
    if by_objective:
        okr_map.judge_objectives(index, objectives, rollup)


def _group(org: Organization, index: okr_map.MapIndex, *, objective_id=None, key_result_id=None) -> list | None:
    """The (filtered) objectives aligned to one objective or KR of the map; None if it is not on the map."""
    if objective_id is not None:
        wanted = str(objective_id)
        return next((node["children"] for node in index.nodes.values() if node["id"] == wanted), None)
    found = KeyResult.objects.for_org(org).filter(public_id=key_result_id).values_list("pk", "objective_id").first()
    if found is None or found[1] not in index.nodes:
        return None  # a KR of an objective this member cannot see (or of another cycle) is not on the map
    return index.kr_children.get(found[0], [])


def trim_for_page(
    group: list[dict], budget: int | None = None, *, index: okr_map.MapIndex
) -> tuple[list[dict], list[dict]]:
    """What one response renders of a sibling `group`: → (the group's nodes shown, every objective rendered).

    At most `budget` objectives: the first ones of the group, then breadth first whole sibling groups while the
    budget lasts; a group that does not fit is marked on its owner (`deferred_children` on the objective, or in
    `index.deferred` for a KR, with its size) and loads when opened; the caller offers the rest of the group itself
    (`group[len(shown):]`)."""
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
        for kr in index.kr_groups.get(index.pk[id(node)], ()):
            kids = index.kr_children[kr]
            if shown + len(kids) <= budget:
                shown += len(kids)
                queue.extend(kids)
            else:
                index.deferred[kr] = len(kids)
    return top, queue


def _read_rendered(
    org: Organization,
    membership: Membership,
    index: okr_map.MapIndex,
    objectives: list[tuple],
    rendered: list[dict],
    params: dict,
) -> None:
    """Read the KRs, contributions, owners and teams of the rendered objectives, judge them (as the API does) and
    add what the templates show."""
    pks = [index.pk[id(node)] for node in rendered]
    wanted = set(pks)
    rows = [r for r in objectives if r[0] in wanted]
    kr_rows = queries.key_result_rows({**params, "ids": queries.bigint_array(pks)}, facts=True) if pks else []
    index.set_people(queries.people_rows(org, {r[7] for r in rows} | {r[6] for r in kr_rows}))
    index.set_teams(queries.team_rows(org, {r[6] for r in rows}))
    whole_map = (index.kr_warnings, index.initiatives)
    okr_map.judge_objectives(index, rows, okr_map.key_result_nodes(index, kr_rows, facts=True))
    index.kr_warnings, index.initiatives = whole_map
    for pk, n in index.deferred.items():
        kr = index.kr_nodes.get(pk)
        if kr is not None:
            kr["deferred_children"] = n
    okr_map.add_contributions(index, queries.contribution_rows(org, membership, index.cycles, pks) if pks else [])
    map_html.decorate(index, rendered)
