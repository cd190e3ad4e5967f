"""The hot API lists, objectives and key results (DESIGN.md §10: a list costs ≤ 3× an authenticated trivial view).

Same output as the assembled path (`assembly.assemble_objectives` / `assemble_key_results` + `serializers.*_out`;
tests/objectives/test_api_lists.py compares them page by page on varied data, for every role), with less work:

- Privacy, filters and the cursor stay in the ORM: `visible_objectives()` + the filters, ordered and sliced by DRF's
  CursorPagination through `RawPage`, compile to a small `SELECT id … LIMIT 51`. What the page shows is read by raw
  SQL around that statement, in ONE query (an objective's KRs joined to it), instead of resolving and compiling an
  ORM query with four subquery annotations (~5 ms) and a second round trip for the KRs. Numbers come as float8,
  UUIDs as text and timestamps through psycopg's C loader; initiative counts are the KR's stored ones, and
  PostgreSQL answers "flat over the last 3 check-ins" instead of shipping the check-ins.
- Each KR row goes straight to its API dict (no intermediate assembled dict): progress from progress.kr_progress,
  signals with their reasons from objectives.api.fast_signals (health's rules and words, as dicts, the fixed ones
  shared), display strings once per distinct value; owners once per page.
- Each objective is rendered to JSON as soon as it is built (`rendered`), so its dicts are freed at once.

Measured (bench/README.md, "Lists API, second pass"): objectives list 4.7–5.1× → 2.5–2.8× the floor, key-results
list 2.4–2.5× → 1.6–1.7×, in the same runs.
"""

from __future__ import annotations

import json
from datetime import datetime

import orjson
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import DEFAULT_DB_ALIAS, connection

from accounts.models import Organization
from objectives import assembly
from objectives.api.fast_signals import PageSignals
from objectives.api.renderers import ORJSONRenderer
from objectives.models import Objective
from objectives.progress import format_value, kr_progress, objective_progress


def where_sql(qs) -> tuple[str, tuple]:
    """The WHERE condition of `qs` as SQL over its unaliased table name (e.g. "objectives_objective"), for use
    inside a subquery that reads that table without an alias. `qs` may filter on its own columns and subqueries,
    not across joins."""
    query = qs.query
    joined = [a for a, n in query.alias_refcount.items() if n and a != query.get_initial_alias()]
    if joined:
        raise ValueError(f"where_sql() needs a condition on {qs.model._meta.db_table} alone; it joins {joined}")
    compiler = query.get_compiler(DEFAULT_DB_ALIAS)
    try:
        sql, params = compiler.compile(query.where)
    except FullResultSet:
        return "TRUE", ()
    except EmptyResultSet:
        return "FALSE", ()
    return sql or "TRUE", tuple(params)


class RawPage:
    """Just enough of a QuerySet for DRF's CursorPagination: ordering and the cursor's position filter go to the
    ORM query (so privacy and filters stay in the selectors); a slice runs `fetch(ids_sql, ids_params)` with that
    query reduced to the page's ids, in page order. Copies share `extra`, where fetch may leave what it read
    besides the rows."""

    def __init__(self, qs, fetch, extra: dict | None = None):
        self.qs, self.fetch = qs, fetch
        self.extra = {} if extra is None else extra

    def order_by(self, *fields) -> RawPage:
        return RawPage(self.qs.order_by(*fields), self.fetch, self.extra)

    def filter(self, **kwargs) -> RawPage:
        return RawPage(self.qs.filter(**kwargs), self.fetch, self.extra)

    def __getitem__(self, key: slice) -> list:
        try:
            sql, params = self.qs[key].values("id").query.sql_with_params()
        except EmptyResultSet:  # e.g. `id__in=[]`: no rows, and like the ORM, no query
            return []
        return self.fetch(sql, tuple(params), self.extra)


# --- SQL ----------------------------------------------------------------------------------------------------------
# A KR as _key_result_out reads it: `kr` with its owner (`km`, `ku`, from _KR_JOINS) and its stored initiative
# counts (not cancelled / done, kept by a trigger: migration objectives 0004). Numbers as float8 and UUIDs as text:
# psycopg loads them in C. `flat`: the last three check-ins have one value (compared as float8, like health's Python
# rule); only read where the watermelon rule looks at it (≥ 1 initiative and at least the done share of them
# done), else false. One parameter: the done share.
_KR_COLUMNS = """kr.id, kr.public_id::text, kr.title, kr.description, kr.kind, kr.unit, kr.unit_label, kr.decimals,
       kr.baseline::float8, kr.target::float8, kr.current::float8, kr.band_low::float8, kr.band_high::float8,
       NULLIF(kr.milestone_steps, '[]'::jsonb)::text, kr.weight::float8, kr.confidence, kr.data_source,
       kr.status, kr.score::float8, kr.position, kr.last_checkin_at, kr.created_at, kr.updated_at,
       kr.owner_id, km.public_id::text, ku.name, ku.email, km.timezone, km.checkin_weekday, km.checkin_hour,
       kr.initiatives_total, kr.initiatives_done,
       CASE WHEN kr.initiatives_total >= 1 AND kr.initiatives_done::float8 / kr.initiatives_total >= %s THEN (
           SELECT count(*) = 3 AND count(DISTINCT r.value) = 1 FROM (
               SELECT ci.value::float8 AS value FROM checkins_checkin ci
               WHERE ci.organization_id = kr.organization_id AND ci.key_result_id = kr.id
               ORDER BY ci.created_at DESC LIMIT 3) r)
       ELSE FALSE END"""
_KR_N = 33
_KR_CREATED_AT = 21
_KR_JOINS = """LEFT JOIN accounts_membership km ON km.id = kr.owner_id
LEFT JOIN accounts_user ku ON ku.id = km.user_id"""

# The objectives list in one statement: the page's objectives (`page`: {ids} is the ORM's `SELECT id … ORDER BY …
# LIMIT n`, and row_number() over it keeps its order) each joined to its KRs (none: one row with NULL KR columns).
# {live} is the caller's visible, non-archived objectives over the unaliased table: the focus counts. {visible} is
# all the caller's visible objectives: a parent they can't see (a private one) is null, its id never shown.
_PAGE_SQL = """
WITH page AS MATERIALIZED (
    SELECT p.n, o.id, o.public_id::text, o.title, o.description, o.level, o.status, o.visibility, o.position,
           o.created_at, o.updated_at,
           o.cycle_id, c.public_id::text AS cycle_public_id, c.name AS cycle_name, c.start_date, c.end_date,
           o.team_id, t.public_id::text AS team_public_id, t.name AS team_name,
           o.owner_id, m.public_id::text AS owner_public_id, u.name AS owner_name, u.email AS owner_email,
           (SELECT objectives_objective.public_id::text FROM objectives_objective
            WHERE objectives_objective.organization_id = o.organization_id
            AND objectives_objective.id = o.parent_objective_id AND {visible}) AS parent_objective,
           (SELECT pk.public_id::text FROM objectives_keyresult pk
            JOIN objectives_objective ON objectives_objective.id = pk.objective_id
            WHERE pk.organization_id = o.organization_id AND pk.id = o.parent_key_result_id AND {visible}
           ) AS parent_key_result,
           CASE WHEN o.owner_id IS NULL THEN 0 ELSE (
               SELECT count(*) FROM objectives_objective WHERE {live}
               AND objectives_objective.cycle_id = o.cycle_id AND objectives_objective.owner_id = o.owner_id)
           END AS focus_owner_n,
           CASE WHEN o.team_id IS NULL THEN 0 ELSE (
               SELECT count(*) FROM objectives_objective WHERE {live}
               AND objectives_objective.cycle_id = o.cycle_id AND objectives_objective.team_id = o.team_id)
           END AS focus_team_n
    FROM (SELECT ids.id, row_number() OVER () AS n FROM ({ids}) ids) p
    -- OFFSET 0 keeps this a lookup by primary key per page row (a join would hash the whole table)
    CROSS JOIN LATERAL (SELECT * FROM objectives_objective o WHERE o.id = p.id OFFSET 0) o
    JOIN objectives_cycle c ON c.id = o.cycle_id
    LEFT JOIN accounts_team t ON t.id = o.team_id
    LEFT JOIN accounts_membership m ON m.id = o.owner_id
    LEFT JOIN accounts_user u ON u.id = m.user_id
)
SELECT page.id, page.public_id, page.title, page.description, page.level, page.status, page.visibility,
       page.position, page.created_at, page.updated_at, page.cycle_id, page.cycle_public_id, page.cycle_name,
       page.start_date, page.end_date, page.team_id, page.team_public_id, page.team_name, page.owner_id,
       page.owner_public_id, page.owner_name, page.owner_email, page.parent_objective, page.parent_key_result,
       page.focus_owner_n, page.focus_team_n,
       {kr_columns}
FROM page
LEFT JOIN objectives_keyresult kr ON kr.organization_id = %s AND kr.objective_id = page.id
{kr_joins}
ORDER BY page.n, kr.position, kr.created_at
""".replace("{kr_columns}", _KR_COLUMNS).replace("{kr_joins}", _KR_JOINS)
# The key-results list: the page's KRs ({ids} as above) with their objective's id, title and cycle dates.
_KEY_RESULTS_SQL = f"""
SELECT {_KR_COLUMNS}, o.public_id::text, o.title, c.start_date, c.end_date
FROM (SELECT ids.id, row_number() OVER () AS n FROM ({{ids}}) ids) p
CROSS JOIN LATERAL (SELECT * FROM objectives_keyresult kr WHERE kr.id = p.id OFFSET 0) kr
JOIN objectives_objective o ON o.id = kr.objective_id
JOIN objectives_cycle c ON c.id = o.cycle_id
{_KR_JOINS}
ORDER BY p.n
"""  # noqa: S608 - built from constants; every value is a query parameter
_OBJECTIVE_COLUMNS = (
    "id",
    "public_id",
    "title",
    "description",
    "level",
    "status",
    "visibility",
    "position",
    "created_at",
    "updated_at",
    "cycle_id",
    "cycle_public_id",
    "cycle_name",
    "start_date",
    "end_date",
    "team_id",
    "team_public_id",
    "team_name",
    "owner_id",
    "owner_public_id",
    "owner_name",
    "owner_email",
    "parent_objective",
    "parent_key_result",
    "focus_owner_n",
    "focus_team_n",
)
_N = len(_OBJECTIVE_COLUMNS)
_RENDERER = ORJSONRenderer()


def _fetch(
    ctx: assembly.Context,
    visible: tuple[str, tuple],
    live: tuple[str, tuple],
    ids_sql: str,
    ids_params: tuple,
    extra: dict,
) -> list:
    """The page's objective rows as dicts, in page order; their KR rows (tuples) go to extra["key_results"]."""
    (visible_sql, visible_params), (live_sql, live_params) = visible, live
    sql = _PAGE_SQL.format(visible=visible_sql, live=live_sql, ids=ids_sql)
    params = (
        *visible_params,
        *visible_params,
        *live_params,
        *live_params,
        *ids_params,
        float(ctx.thresholds.watermelon_done_share),
        ctx.org.id,
    )
    objectives: list[dict] = []
    key_results: dict[int, list[tuple]] = {}
    with connection.cursor() as cursor:
        assembly._fast_timestamps(cursor)
        cursor.execute(sql, params)
        for record in cursor.fetchall():
            pk = record[0]
            if not objectives or objectives[-1]["id"] != pk:
                objectives.append(dict(zip(_OBJECTIVE_COLUMNS, record[:_N], strict=True)))
                key_results[pk] = []
            if record[_N] is not None:
                key_results[pk].append(record[_N:])
    extra["key_results"] = key_results
    return objectives


# --- Output -------------------------------------------------------------------------------------------------------
class _Page:
    """Per-request state: the signal judge, owners as {id, name, initials}, formatted values."""

    def __init__(self, ctx: assembly.Context):
        self.ctx = ctx
        self.people: dict = {}
        self.signals = PageSignals(ctx.thresholds)
        self.formatted: dict = {}
        self.cutoffs: dict = {}

    def stale_cutoff(self, tz: str | None, weekday: int | None, hour: int | None, tzinfo) -> datetime:
        """Context.stale_cutoff for an owner's slot, in the time zone object of the rows it is compared with:
        aware datetimes with the same tzinfo compare without a UTC offset lookup on each side (~4 µs a KR)."""
        key = (tz, weekday, hour, tzinfo)
        found = self.cutoffs.get(key)
        if found is None:
            found = self.cutoffs[key] = self.ctx.stale_cutoff(tz, weekday, hour).astimezone(tzinfo)
        return found

    def format_value(self, value, unit: str, unit_label: str, decimals: int) -> str:
        """progress.format_value, once per distinct (value, unit, label, decimals) of the page (KRs share
        baselines and targets)."""
        key = (value, unit, unit_label, decimals)
        found = self.formatted.get(key)
        if found is None:
            found = self.formatted[key] = format_value(value=value, unit=unit, unit_label=unit_label, decimals=decimals)
        return found

    def person(self, pk, public_id, name, email) -> dict | None:
        if pk is None:
            return None
        found = self.people.get(pk)
        if found is None:
            found = self.people[pk] = assembly.person(public_id, name, email)
        return found


def _key_result_out(r: tuple, page: _Page, objective_ref: dict, expected: float) -> tuple[dict, float]:
    """One KR row (_KR_COLUMNS) → (serializers.key_result_out's dict, same keys in the same order; its progress
    unrounded, for the objective's roll-up)."""
    (
        _pk,
        public_id,
        title,
        description,
        kind,
        unit,
        unit_label,
        decimals,
        baseline,
        target,
        current,
        band_low,
        band_high,
        steps_json,
        weight,
        confidence,
        data_source,
        status,
        score,
        position,
        last_checkin_at,
        created_at,
        updated_at,
        owner_id,
        owner_public_id,
        owner_name,
        owner_email,
        tz,
        weekday,
        hour,
        total,
        done,
        flat,
    ) = r
    steps = (json.loads(steps_json) or []) if steps_json else []
    prog = kr_progress(
        kind=kind,
        baseline=baseline,
        target=target,
        current=current,
        band_low=band_low,
        band_high=band_high,
        milestone_steps=steps,
    )
    fmt = page.format_value
    last_activity = last_checkin_at or created_at
    signals, status_signal = page.signals(
        title=title,
        kind=kind,
        unit=unit,
        baseline=baseline,
        target=target,
        status=status,
        has_owner=owner_id is not None,
        progress=prog.value,
        expected=expected,
        confidence=confidence,
        initiatives_total=total,
        initiatives_done=done,
        flat=flat,
        last_checkin_at=last_checkin_at,
        stale=last_activity is not None and last_activity < page.stale_cutoff(tz, weekday, hour, last_activity.tzinfo),
    )
    return {
        "id": public_id,
        "objective": objective_ref,
        "title": title,
        "description": description,
        "kind": kind,
        "unit": unit,
        "unit_label": unit_label,
        "decimals": decimals,
        "baseline": baseline,
        "target": target,
        "current": current,
        "band_low": band_low,
        "band_high": band_high,
        "milestone_steps": steps,
        "weight": weight,
        "confidence": confidence,
        "data_source": data_source,
        "status": status,
        "score": score,
        "position": position,
        "owner": page.person(owner_id, owner_public_id, owner_name, owner_email),
        "progress": round(prog.value, 4),
        "below_baseline": prog.below_baseline,
        "inside_band": prog.inside_band,
        "display": {
            "baseline": fmt(baseline, unit, unit_label, decimals),
            "target": fmt(target, unit, unit_label, decimals),
            "current": fmt(current, unit, unit_label, decimals),
            "band_low": fmt(band_low, unit, unit_label, decimals) if band_low is not None else None,
            "band_high": fmt(band_high, unit, unit_label, decimals) if band_high is not None else None,
        },
        "last_checkin_at": last_checkin_at,
        "initiatives_total": total,
        "initiatives_done": done,
        "status_signal": status_signal,
        "signals": signals,
        "created_at": created_at,
        "updated_at": updated_at,
    }, prog.value


def _objective_out(o: dict, page: _Page, krs: list[tuple[dict, float]], expected: float) -> dict:
    """One objective row + its KRs from _key_result_out → serializers.objective_out's dict (same keys, same
    order)."""
    progress = objective_progress(items=[(value, kr["weight"]) for kr, value in krs])
    key_results = [kr for kr, _ in krs]
    signals, status_signal = page.signals.objective(
        status=o["status"],
        has_owner=o["owner_id"] is not None,
        progress=progress,
        expected=expected,
        key_results_count=len(key_results),
        owner_objectives_in_cycle=o["focus_owner_n"],
        team_objectives_in_cycle=o["focus_team_n"],
        team_name=o["team_name"] or "",
    )
    live = [kr for kr in key_results if kr["status"] == "active"]
    stale = [kr["status_signal"] for kr in live if kr["status_signal"] and kr["status_signal"]["code"] == "stale"]
    if live and len(stale) == len(live):
        # Stale overrides the last reported status (DESIGN.md §3), as in assembly.build_objective.
        status_signal = stale[0]
    return {
        "id": o["public_id"],
        "title": o["title"],
        "description": o["description"],
        "level": o["level"],
        "status": o["status"],
        "visibility": o["visibility"],
        "position": o["position"],
        "cycle": {"id": o["cycle_public_id"], "name": o["cycle_name"]},
        "team": {"id": o["team_public_id"], "name": o["team_name"]} if o["team_id"] else None,
        "owner": page.person(o["owner_id"], o["owner_public_id"], o["owner_name"], o["owner_email"]),
        "parent_objective": o["parent_objective"],
        "parent_key_result": o["parent_key_result"],
        "progress": round(progress, 4),
        "expected_progress": round(expected, 4),
        "status_signal": status_signal,
        "signals": signals,
        "kr_count": len(key_results),
        "kr_signal_codes": sorted({s["code"] for kr in key_results for s in kr["signals"]}),
        "key_results": key_results,
        "created_at": o["created_at"],
        "updated_at": o["updated_at"],
    }


def objective_page(org: Organization, qs, visible_qs, ctx: assembly.Context | None = None) -> RawPage:
    """`qs` (visible objectives with the list's filters) as a RawPage for CursorPagination: a slice is a list of
    objective rows, read with their KRs in one query; `objectives_out` turns a page into API dicts."""
    ctx = ctx or assembly.Context.for_org(org)
    visible = where_sql(visible_qs)
    live = where_sql(visible_qs.exclude(status=Objective.Status.ARCHIVED))

    def fetch(ids_sql: str, ids_params: tuple, extra: dict) -> list[dict]:
        return _fetch(ctx, visible, live, ids_sql, ids_params, extra)

    return RawPage(qs, fetch, {"ctx": ctx})


def objectives_out(rows: list[dict], source: RawPage):
    """A page of rows from objective_page's `source` → the API's objective dicts with their KRs, progress and
    signals (serializers.objective_out's shape), one at a time. No queries."""
    if not rows:
        return
    page = _Page(source.extra["ctx"])
    key_results = source.extra["key_results"]
    for o in rows:
        ref = {"id": o["public_id"], "title": o["title"]}
        expected = page.ctx.expected(o["start_date"], o["end_date"])
        krs = [_key_result_out(r, page, ref, expected) for r in key_results[o["id"]]]
        yield _objective_out(o, page, krs, expected)


def key_result_page(org: Organization, qs, ctx: assembly.Context | None = None) -> RawPage:
    """`qs` (visible KRs with the list's filters) as a RawPage for CursorPagination: a slice is a list of
    {"created_at", "row"} (the cursor reads created_at), read in one query; `key_results_out` turns it into API
    dicts."""
    ctx = ctx or assembly.Context.for_org(org)

    def fetch(ids_sql: str, ids_params: tuple, extra: dict) -> list[dict]:
        params = (float(ctx.thresholds.watermelon_done_share), *ids_params)
        with connection.cursor() as cursor:
            assembly._fast_timestamps(cursor)
            cursor.execute(_KEY_RESULTS_SQL.format(ids=ids_sql), params)
            return [{"created_at": r[_KR_CREATED_AT], "row": r} for r in cursor.fetchall()]

    return RawPage(qs, fetch, {"ctx": ctx})


def key_results_out(rows: list[dict], source: RawPage):
    """A page of rows from key_result_page's `source` → the API's KR dicts (serializers.key_result_out's shape),
    one at a time. No queries."""
    page = _Page(source.extra["ctx"])
    refs: dict[str, dict] = {}
    for item in rows:
        r = item["row"]
        objective_id, title, start, end = r[_KR_N:]
        ref = refs.get(objective_id)
        if ref is None:
            ref = refs[objective_id] = {"id": objective_id, "title": title}
        yield _key_result_out(r[:_KR_N], page, ref, page.ctx.expected(start, end))[0]


def rendered(items) -> list[orjson.Fragment]:
    """Each item rendered to JSON as soon as it is built (the renderer embeds the fragments as they are), so its
    dicts are freed at once: kept until the response renders, a page's ~5,000 dicts and lists cost ~2 ms of
    cyclic garbage collection passes a request (measured in-process), for nothing."""
    render = _RENDERER.render
    return [orjson.Fragment(render(item)) for item in items]
