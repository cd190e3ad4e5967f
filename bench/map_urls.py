"""bench.urls plus the alignment map baselines, for bench/map.py's gunicorn only (never the product).

- /bench/o/<org>/map-raw?cycle=<uuid>: the same JSON as GET /api/v1/o/<org>/map (its default, compact response), from
  raw SQL (psycopg cursor, no ORM, no DRF) through the same pure assembly (objectives.map.assemble: progress, signal
  codes, tree) and orjson. bench/map.py checks the two bodies are equal before it measures.
- /bench/o/<org>/map-rows?cycle=<uuid>: the data floor: the same raw SQL rows, nested in Python, orjson; no
  progress or signal computation.
"""

from collections import defaultdict

import orjson
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.urls import path

from accounts.models import Role
from accounts.services import api_token_authenticate
from bench.urls import urlpatterns as bench_urlpatterns
from objectives import health
from objectives import map as okr_map
from objectives.assembly import Context
from okrapp.tenancy import resolve_membership

VISIBLE = """(o.visibility = 'organization' OR o.owner_id = %(m)s OR %(admin)s
    OR (o.visibility = 'team' AND o.team_id IN
        (SELECT team_id FROM accounts_teammember WHERE membership_id = %(m)s)))"""
IN_MAP = f"o.organization_id = %(org)s AND o.cycle_id = ANY(%(cycles)s) AND o.status <> 'archived' AND {VISIBLE}"
# The same columns, in the same order and types, as objectives.map.fetch_rows (OBJECTIVE_COLUMNS etc.).
SQL = {
    "cycles": """SELECT id, public_id, name, kind, start_date, end_date FROM objectives_cycle
        WHERE organization_id = %(org)s AND (id = %(cycle)s OR parent_id = %(cycle)s OR id = %(parent)s)
        ORDER BY start_date DESC, kind""",
    "objectives": f"""SELECT o.id, o.public_id, o.title, o.level, o.status, o.cycle_id, o.team_id, o.owner_id,
        o.parent_objective_id, o.parent_key_result_id
        FROM objectives_objective o WHERE {IN_MAP} ORDER BY o.position, o.created_at""",
    "key_results": f"""SELECT k.id, k.public_id, k.objective_id, k.title, k.kind, k.unit, k.baseline::float8,
        k.target::float8, k.current::float8, k.band_low::float8, k.band_high::float8,
        CASE WHEN jsonb_typeof(k.milestone_steps) = 'array' THEN jsonb_array_length(k.milestone_steps) ELSE 0 END,
        k.weight::float8, k.confidence, k.status, extract(epoch FROM k.last_checkin_at)::float8,
        extract(epoch FROM k.created_at)::float8, k.owner_id
        FROM objectives_keyresult k JOIN objectives_objective o ON o.id = k.objective_id
        WHERE k.organization_id = %(org)s AND {IN_MAP} ORDER BY k.position, k.created_at""",
    "initiatives": f"""SELECT i.key_result_id, i.status, count(*) AS n FROM initiatives_initiative i
        JOIN objectives_keyresult k ON k.id = i.key_result_id JOIN objectives_objective o ON o.id = k.objective_id
        WHERE i.organization_id = %(org)s AND {IN_MAP} GROUP BY 1, 2""",
    "contributions": f"""SELECT c.objective_id, c.key_result_id, c.weight::float8 FROM objectives_contribution c
        JOIN objectives_objective o ON o.id = c.objective_id WHERE c.organization_id = %(org)s AND {IN_MAP}""",
}
RECENT = """SELECT key_result_id, value FROM (SELECT key_result_id, value::float8 AS value, ROW_NUMBER() OVER
    (PARTITION BY key_result_id ORDER BY created_at DESC) AS rank FROM checkins_checkin
    WHERE organization_id = %(org)s AND key_result_id = ANY(%(ids)s)) r WHERE rank <= 3 ORDER BY key_result_id, rank"""
PEOPLE = """SELECT m.id, m.public_id, u.name, u.email, m.timezone, m.checkin_weekday, m.checkin_hour
    FROM accounts_membership m JOIN accounts_user u ON u.id = m.user_id
    WHERE m.organization_id = %(org)s AND m.id = ANY(%(ids)s)"""
TEAMS = "SELECT id, public_id, name FROM accounts_team WHERE organization_id = %(org)s AND id = ANY(%(ids)s)"


def _auth(request, org_slug):
    header = request.headers.get("Authorization", "").split()
    token = api_token_authenticate(secret=header[1]) if len(header) == 2 else None
    return resolve_membership(token.membership.user, org_slug) if token else None


def _rows(cursor, sql, params) -> list[tuple]:
    cursor.execute(sql, params)
    return cursor.fetchall()


def _fetch(request, org_slug):
    membership = _auth(request, org_slug)
    if membership is None:
        return None, None, None, None
    org = membership.organization
    t = health.thresholds_for(org.signal_settings)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, parent_id FROM objectives_cycle WHERE organization_id = %s AND public_id = %s",
            [org.id, request.GET["cycle"]],
        )
        cycle_id, parent_id = cursor.fetchone()
        params = {"org": org.id, "cycle": cycle_id, "parent": parent_id or 0, "m": membership.id}
        params["admin"] = membership.role >= Role.ADMIN
        cols = ("id", "public_id", "name", "kind", "start_date", "end_date")
        cycles = {r[0]: dict(zip(cols, r, strict=True)) for r in _rows(cursor, SQL["cycles"], params)}
        params["cycles"] = list(cycles)
        data = {name: _rows(cursor, SQL[name], params) for name in SQL if name != "cycles"}
        candidates = okr_map.flat_candidates(data["initiatives"], t)
        data["recent"] = _rows(cursor, RECENT, {**params, "ids": candidates}) if candidates else []
        owners, teams = okr_map.referenced_ids(data["objectives"], data["key_results"])
        data["people"] = _rows(cursor, PEOPLE, {**params, "ids": owners}) if owners else []
        data["teams"] = _rows(cursor, TEAMS, {**params, "ids": teams}) if teams else []
    return org, cycle_id, cycles, okr_map.MapRows(**data)


def map_raw(request, org_slug):
    org, cycle_id, cycles, rows = _fetch(request, org_slug)
    if org is None:
        return JsonResponse({"detail": "auth"}, status=401)
    result, _ = okr_map.assemble(ctx=Context.for_org(org), cycle_pk=cycle_id, cycles=cycles, rows=rows)
    return HttpResponse(orjson.dumps(result), content_type="application/json")


def map_rows(request, org_slug):
    """The data floor: the same rows nested objective → KRs (+ initiative counts), no progress or signals."""
    org, _, cycles, rows = _fetch(request, org_slug)
    if org is None:
        return JsonResponse({"detail": "auth"}, status=401)
    counts = defaultdict(dict)
    for kr_id, status, n in rows.initiatives:
        counts[kr_id][status] = n
    krs = defaultdict(list)
    for r in rows.key_results:
        krs[r[2]].append([*r, counts.get(r[0], {})])
    objectives = [[*o, krs.get(o[0], [])] for o in rows.objectives]
    return HttpResponse(orjson.dumps({"objectives": objectives}), content_type="application/json")


urlpatterns = [
    path("bench/o/<slug:org_slug>/map-raw", map_raw),
    path("bench/o/<slug:org_slug>/map-rows", map_rows),
    *bench_urlpatterns,
]
