"""The product's URLs plus /bench/o/<org>/objectives-raw: the same rows as the objectives list API page, by raw SQL
and orjson. Only served by bench/run.py's gunicorn (bench.settings), never by the product."""

import orjson
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.urls import path

from accounts.services import api_token_authenticate
from okrapp.tenancy import resolve_membership
from okrapp.urls import urlpatterns as product_urlpatterns

# One page of 50 visible objectives (newest first, like the API's cursor page) with their KRs nested as JSON.
RAW_SQL = """
SELECT o.public_id, o.title, o.level, o.status, o.visibility, o.created_at, o.updated_at,
       c.public_id AS cycle_id, c.name AS cycle_name, t.public_id AS team_id, t.name AS team_name,
       m.public_id AS owner_id, u.name AS owner_name,
       COALESCE((SELECT json_agg(json_build_object(
           'id', k.public_id, 'title', k.title, 'kind', k.kind, 'unit', k.unit, 'baseline', k.baseline,
           'target', k.target, 'current', k.current, 'band_low', k.band_low, 'band_high', k.band_high,
           'confidence', k.confidence, 'status', k.status, 'weight', k.weight, 'last_checkin_at', k.last_checkin_at)
           ORDER BY k.position)
        FROM objectives_keyresult k WHERE k.organization_id = o.organization_id AND k.objective_id = o.id), '[]')
       AS key_results
FROM objectives_objective o
JOIN objectives_cycle c ON c.id = o.cycle_id
LEFT JOIN accounts_team t ON t.id = o.team_id
LEFT JOIN accounts_membership m ON m.id = o.owner_id
LEFT JOIN accounts_user u ON u.id = m.user_id
WHERE o.organization_id = %s AND o.status <> 'archived'
  AND (o.visibility = 'organization' OR o.owner_id = %s OR (o.visibility = 'team' AND o.team_id IN
       (SELECT team_id FROM accounts_teammember WHERE membership_id = %s)))
ORDER BY o.created_at DESC
LIMIT 50
"""


def objectives_raw(request, org_slug):
    header = request.headers.get("Authorization", "").split()
    token = api_token_authenticate(secret=header[1]) if len(header) == 2 else None
    if token is None:
        return JsonResponse({"detail": "auth"}, status=401)
    membership = resolve_membership(token.membership.user, org_slug)
    with connection.cursor() as cursor:
        cursor.execute(RAW_SQL, [membership.organization_id, membership.id, membership.id])
        cols = [c.name for c in cursor.description]
        rows = [dict(zip(cols, r, strict=True)) for r in cursor.fetchall()]
    return HttpResponse(orjson.dumps({"results": rows}, default=str), content_type="application/json")


urlpatterns = [path("bench/o/<slug:org_slug>/objectives-raw", objectives_raw), *product_urlpatterns]
