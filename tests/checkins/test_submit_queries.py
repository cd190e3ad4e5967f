"""The check-in POST path stays lean (DESIGN.md §10: check-in submit p95 ≤ 100 ms): token, KR read+lock, the writes."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from checkins.models import CheckIn
from tests.factories_okr import CycleFactory, KeyResultFactory, ObjectiveFactory


def test_check_in_post_reads_the_kr_once_and_reuses_the_tokens_membership(org, member, api_client_for):
    kr = KeyResultFactory(objective=ObjectiveFactory(cycle=CycleFactory(organization=org), owner=member))
    api = api_client_for(member)
    url = f"/api/v1/o/{org.slug}/key-results/{kr.public_id}/check-ins"
    assert api.post(url, {"value": 5}, format="json").status_code == 201  # token last_used_at written here
    with CaptureQueriesContext(connection) as ctx:
        response = api.post(url, {"value": 6, "confidence": 7, "comment": "ok"}, format="json")
    assert response.status_code == 201 and response.json()["key_result_state"]["confidence"] == 7
    statements = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    # token lookup, KR read FOR UPDATE, check-in INSERT, KR UPDATE, audit INSERT
    assert len(statements) == 5, statements
    assert sum("FOR UPDATE" in s for s in statements) == 1
    assert CheckIn.objects.filter(key_result=kr).count() == 2
