"""bench.urls plus the alignment map baselines, for bench/map.py's gunicorn only (never the product).

- /bench/o/<org>/map-raw?cycle=<uuid>: the same JSON as GET /api/v1/o/<org>/map, from raw SQL (psycopg cursor,
  no ORM, no DRF) through the same pure assembly (objectives.map.build_tree: progress and health signals) and orjson.
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
from objectives import map as okr_map
from objectives.assembly import Context
from okrapp.tenancy import resolve_membership

VISIBLE = """(o.visibility = 'organization' OR o.owner_id = %(m)s OR %(admin)s
    OR (o.visibility = 'team' AND o.team_id IN
        (SELECT team_id FROM accounts_teammember WHERE membership_id = %(m)s)))"""
IN_MAP = f"o.organization_id = %(org)s AND o.cycle_id = ANY(%(cycles)s) AND o.status <> 'archived' AND {VISIBLE}"
SQL = {
    "cycles": """SELECT id, public_id, name, start_date, end_date FROM objectives_cycle
        WHERE organization_id = %(org)s AND (id = %(cycle)s OR parent_id = %(cycle)s OR id = %(parent)s)""",
    "objectives": f"""SELECT o.id, o.public_id, o.title, o.level, o.status, o.cycle_id, o.team_id,
        t.public_id AS team__public_id, t.name AS team__name, o.owner_id, m.public_id AS owner__public_id,
        u.name AS owner__user__name, u.email AS owner__user__email, o.parent_objective_id, o.parent_key_result_id
        FROM objectives_objective o LEFT JOIN accounts_team t ON t.id = o.team_id
        LEFT JOIN accounts_membership m ON m.id = o.owner_id LEFT JOIN accounts_user u ON u.id = m.user_id
        WHERE {IN_MAP} ORDER BY o.position, o.created_at""",
    "key_results": f"""SELECT k.id, k.public_id, k.objective_id, k.title, k.kind, k.unit, k.baseline, k.target,
        k.current, k.band_low, k.band_high, k.milestone_steps, k.weight, k.confidence, k.status, k.last_checkin_at,
        k.created_at, k.owner_id, m.public_id AS owner__public_id, u.name AS owner__user__name,
        u.email AS owner__user__email, m.timezone AS owner__timezone, m.checkin_weekday AS owner__checkin_weekday,
        m.checkin_hour AS owner__checkin_hour
        FROM objectives_keyresult k JOIN objectives_objective o ON o.id = k.objective_id
        LEFT JOIN accounts_membership m ON m.id = k.owner_id LEFT JOIN accounts_user u ON u.id = m.user_id
        WHERE k.organization_id = %(org)s AND {IN_MAP} ORDER BY k.position, k.created_at""",
    "initiatives": f"""SELECT i.key_result_id, i.status, count(*) AS n FROM initiatives_initiative i
        JOIN objectives_keyresult k ON k.id = i.key_result_id JOIN objectives_objective o ON o.id = k.objective_id
        WHERE i.organization_id = %(org)s AND {IN_MAP} GROUP BY 1, 2""",
    "contributions": f"""SELECT c.objective_id, c.key_result_id, c.weight FROM objectives_contribution c
        JOIN objectives_objective o ON o.id = c.objective_id WHERE c.organization_id = %(org)s AND {IN_MAP}""",
    "recent": f"""SELECT key_result_id, value, rank FROM (SELECT ci.key_result_id, ci.value, ROW_NUMBER() OVER
        (PARTITION BY ci.key_result_id ORDER BY ci.created_at DESC) AS rank FROM checkins_checkin ci
        JOIN objectives_keyresult k ON k.id = ci.key_result_id JOIN objectives_objective o ON o.id = k.objective_id
        WHERE ci.organization_id = %(org)s AND {IN_MAP}) r WHERE rank <= 3""",
}


def _auth(request, org_slug):
    header = request.headers.get("Authorization", "").split()
    token = api_token_authenticate(secret=header[1]) if len(header) == 2 else None
    return resolve_membership(token.membership.user, org_slug) if token else None


def _rows(cursor, sql, params) -> list[dict]:
    cursor.execute(sql, params)
    cols = [c.name for c in cursor.description]
    return [dict(zip(cols, r, strict=True)) for r in cursor.fetchall()]


def _fetch(request, org_slug):
    membership = _auth(request, org_slug)
    if membership is None:
        return None, None, None
    org = membership.organization
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, parent_id FROM objectives_cycle WHERE organization_id = %s AND public_id = %s",
            [org.id, request.GET["cycle"]],
        )
        cycle_id, parent_id = cursor.fetchone()
        params = {"org": org.id, "cycle": cycle_id, "parent": parent_id or 0, "m": membership.id}
        params["admin"] = membership.role >= Role.ADMIN
        cycles = {r["id"]: r for r in _rows(cursor, SQL["cycles"], params)}
        params["cycles"] = list(cycles)
        data = {name: _rows(cursor, SQL[name], params) for name in SQL if name != "cycles"}
    return org, cycles, data


def map_raw(request, org_slug):
    org, cycles, data = _fetch(request, org_slug)
    if org is None:
        return JsonResponse({"detail": "auth"}, status=401)
    roots, nodes = okr_map.build_tree(ctx=Context.for_org(org), cycles=cycles, **data)
    warnings = okr_map.warnings(nodes)
    okr_map._strip(nodes)
    body = {"cycles": list(cycles), "warnings": warnings, "roots": roots}
    return HttpResponse(orjson.dumps(body), content_type="application/json")


def map_rows(request, org_slug):
    org, cycles, data = _fetch(request, org_slug)
    if org is None:
        return JsonResponse({"detail": "auth"}, status=401)
    krs = defaultdict(list)
    for kr in data["key_results"]:
        kr["weight"], kr["baseline"], kr["target"], kr["current"] = (
            float(kr[k]) for k in ("weight", "baseline", "target", "current")
        )
        kr["band_low"] = kr["band_high"] = None
        krs[kr["objective_id"]].append(kr)
    objectives = [{**o, "key_results": krs.get(o["id"], [])} for o in data["objectives"]]
    return HttpResponse(orjson.dumps({"objectives": objectives}), content_type="application/json")


urlpatterns = [
    path("bench/o/<slug:org_slug>/map-raw", map_raw),
    path("bench/o/<slug:org_slug>/map-rows", map_rows),
    *bench_urlpatterns,
]
