"""bench.urls plus the alignment map baselines, for bench/map.py's gunicorn only (never the product).

- /bench/o/<org>/map-raw?cycle=<uuid>: the same JSON as GET /api/v1/o/<org>/map (its default, compact response), from
  hand-written SQL run on a psycopg cursor (no ORM query building, no DRF, token checked directly), nested by the
  same pure functions as the API (objectives.map: skeleton, link, key_result_nodes, judge_objectives, result) and
  written by orjson. The KR facts come from the same SQL (objectives.map_queries.KR_SQL: stored progress,
  health_sql's code mask, initiatives per status). bench/map.py checks the two bodies are equal before it measures.
- /bench/o/<org>/map-rows?cycle=<uuid>: the data floor: the same rows nested objective → KRs in Python, orjson; no
  tree, no roll-up, no warnings.
"""

from collections import defaultdict

import orjson
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.urls import path

from accounts.models import Role
from accounts.services import api_token_authenticate
from bench.urls import urlpatterns as bench_urlpatterns
from objectives import map as okr_map
from objectives import map_queries as queries
from objectives.assembly import Context
from okrapp.tenancy import resolve_membership

VISIBLE = """(o.visibility = 'organization' OR o.owner_id = %(m)s OR %(admin)s
    OR (o.visibility = 'team' AND o.team_id IN
        (SELECT team_id FROM accounts_teammember WHERE membership_id = %(m)s)))"""
IN_MAP = f"o.organization_id = %(org)s AND o.cycle_id = ANY(%(cycles)s) AND o.status <> 'archived' AND {VISIBLE}"
# The same columns, in the same order and types, as objectives.map's queries (OBJECTIVE_COLUMNS etc.).
SQL = {
    "cycles": """SELECT id, public_id::text, name, kind, start_date, end_date FROM objectives_cycle
        WHERE organization_id = %(org)s AND (id = %(cycle)s OR parent_id = %(cycle)s OR id = %(parent)s)
        ORDER BY start_date DESC, kind""",
    "objectives": f"""SELECT o.id, o.public_id::text, o.title, o.level, o.status, o.cycle_id, o.team_id, o.owner_id,
        o.parent_objective_id, o.parent_key_result_id
        FROM objectives_objective o WHERE {IN_MAP} ORDER BY o.position, o.created_at""",
    "contributions": f"""SELECT c.objective_id, c.key_result_id, k.objective_id, k.public_id::text, k.title,
        c.weight::float8 FROM objectives_contribution c JOIN objectives_objective o ON o.id = c.objective_id
        JOIN objectives_keyresult k ON k.id = c.key_result_id WHERE c.organization_id = %(org)s AND {IN_MAP}
        ORDER BY c.id""",
}
PEOPLE = """SELECT m.id, m.public_id::text, u.name, u.email
    FROM accounts_membership m JOIN accounts_user u ON u.id = m.user_id
    WHERE m.organization_id = %(org)s AND m.id = ANY(%(ids)s)"""
TEAMS = "SELECT id, public_id::text, name FROM accounts_team WHERE organization_id = %(org)s AND id = ANY(%(ids)s)"
COLS = ("id", "public_id", "name", "kind", "start_date", "end_date")


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
        return None
    org = membership.organization
    ctx = Context.for_org(org)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, parent_id FROM objectives_cycle WHERE organization_id = %s AND public_id = %s",
            [org.id, request.GET["cycle"]],
        )
        cycle_id, parent_id = cursor.fetchone()
        params = {"org": org.id, "cycle": cycle_id, "parent": parent_id or 0, "m": membership.id}
        params["admin"] = membership.role >= Role.ADMIN
        cycles = {r[0]: dict(zip(COLS, r, strict=True)) for r in _rows(cursor, SQL["cycles"], params)}
        params["cycles"] = list(cycles)
        objectives = _rows(cursor, SQL["objectives"], params)
        krs = queries.key_result_rows(queries.judge_params(org, ctx, cycles, [r[0] for r in objectives]))
        owners = sorted({r[7] for r in objectives if r[7]} | {r[6] for r in krs if r[6]})
        people = _rows(cursor, PEOPLE, {**params, "ids": owners}) if owners else []
        team_ids = sorted({r[6] for r in objectives if r[6]})
        teams = _rows(cursor, TEAMS, {**params, "ids": team_ids}) if team_ids else []
        contributions = _rows(cursor, SQL["contributions"], params)
    return ctx, cycle_id, cycles, objectives, krs, people, teams, contributions


def map_raw(request, org_slug):
    fetched = _fetch(request, org_slug)
    if fetched is None:
        return JsonResponse({"detail": "auth"}, status=401)
    ctx, cycle_id, cycles, objectives, krs, people, teams, contributions = fetched
    with okr_map.gc_paused():
        index = okr_map.skeleton(ctx, cycles, objectives)
        index.set_people(people)
        index.set_teams(teams)
        index.key_results = len(krs)
        roots = okr_map.link(index, objectives, {r[0]: r[2] for r in krs})
        okr_map.judge_objectives(index, objectives, okr_map.key_result_nodes(index, krs))
        okr_map.count_objective_warnings(index, objectives)
        okr_map.add_contributions(index, contributions)
        body = orjson.dumps(okr_map.result(index, cycle_id, roots, None, None))
    return HttpResponse(body, content_type="application/json")


def map_rows(request, org_slug):
    """The data floor: the same rows nested objective → KRs, no tree, no roll-up, no warnings."""
    fetched = _fetch(request, org_slug)
    if fetched is None:
        return JsonResponse({"detail": "auth"}, status=401)
    _, _, _, objectives, krs, _, _, _ = fetched
    by_objective = defaultdict(list)
    for r in krs:
        by_objective[r[2]].append(r)
    rows = [[*o, by_objective.get(o[0], [])] for o in objectives]
    return HttpResponse(orjson.dumps({"objectives": rows}), content_type="application/json")


urlpatterns = [
    path("bench/o/<slug:org_slug>/map-raw", map_raw),
    path("bench/o/<slug:org_slug>/map-rows", map_rows),
    *bench_urlpatterns,
]
