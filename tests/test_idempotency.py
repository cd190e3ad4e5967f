"""Idempotency-Key on API POSTs (okrapp.idempotency): a retried POST creates nothing new and gets the first answer."""

import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import requests
from django.conf import settings
from django.db import connection

from accounts.services import api_token_create
from checkins.models import CheckIn
from objectives.models import Objective
from tests.checkins.checkin_helpers import make_cycle, make_kr

pytestmark = pytest.mark.django_db


@pytest.fixture
def cycle(org):
    return make_cycle(org)


def _objective(api, org, cycle, key, title="Delight teams"):
    body = {"cycle": str(cycle.public_id), "title": title, "level": "company"}
    return api.post(f"/api/v1/o/{org.slug}/objectives", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retry_with_the_same_key_replays_the_first_response(org, member, cycle, api_client_for):
    api = api_client_for(member)
    first = _objective(api, org, cycle, "create-delight-1")
    again = _objective(api, org, cycle, "create-delight-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Objective.objects.count() == 1
    assert _objective(api, org, cycle, "create-delight-2").status_code == 201  # a new key is a new request
    assert Objective.objects.count() == 2


def test_the_same_key_with_another_body_is_refused(org, member, cycle, api_client_for):
    api = api_client_for(member)
    assert _objective(api, org, cycle, "k1").status_code == 201
    response = _objective(api, org, cycle, "k1", title="Something else")
    assert response.status_code == 422 and "different request body" in response.json()["detail"]
    assert list(Objective.objects.values_list("title", flat=True)) == ["Delight teams"]


def test_errors_are_not_kept_so_a_corrected_request_can_reuse_the_key(org, member, cycle, api_client_for):
    api = api_client_for(member)
    refused = _objective(api, org, cycle, "k2", title="")
    assert refused.status_code == 400 and "title" in refused.json()
    assert _objective(api, org, cycle, "k2").status_code == 201


def test_keys_belong_to_one_caller(org, member, admin, cycle, api_client_for):
    assert _objective(api_client_for(member), org, cycle, "shared").status_code == 201
    other = _objective(api_client_for(admin), org, cycle, "shared")
    assert other.status_code == 201 and "Idempotent-Replayed" not in other
    assert Objective.objects.count() == 2


def test_a_retried_check_in_is_recorded_once(member, api_client_for):
    kr = make_kr(member)
    api = api_client_for(member)
    path = f"/api/v1/o/{member.organization.slug}/key-results/{kr.public_id}/check-ins"
    for _ in range(3):
        response = api.post(
            path, {"value": 42, "comment": "from the warehouse"}, format="json", HTTP_IDEMPOTENCY_KEY="w-2026-19"
        )
        assert response.status_code == 201
    assert CheckIn.objects.filter(key_result=kr).count() == 1


def test_a_bad_key_is_a_400(org, member, cycle, api_client_for):
    api = api_client_for(member)
    assert _objective(api, org, cycle, "x" * 256).status_code == 400
    assert _objective(api, org, cycle, "has space").status_code == 400
    assert not Objective.objects.exists()


def _waiting_on_a_lock(conn) -> bool:
    # pg_locks, not pg_stat_activity: the latter is a snapshot taken once per transaction.
    return conn.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_a_retry_racing_the_first_request_gets_a_409_and_creates_nothing(live_server, member):
    """Two real requests with one key at once: the first is held inside its INSERT by a table lock taken here, the
    second arrives meanwhile and is turned away; when the lock goes, the first completes. One objective."""
    org = member.organization
    cycle = make_cycle(org)
    _, secret = api_token_create(actor=member, name="race")
    url = f"{live_server.url}/api/v1/o/{org.slug}/objectives"
    headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": "race-1"}
    body = {"cycle": str(cycle.public_id), "title": "Delight teams", "level": "company"}
    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"],
        port=db["PORT"],
        user=db["USER"],
        password=db["PASSWORD"],
        dbname=connection.settings_dict["NAME"],
    ) as locker:
        locker.execute("LOCK TABLE objectives_objective IN EXCLUSIVE MODE")  # blocks inserts, not reads
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(requests.post, url, json=body, headers=headers, timeout=30)
            deadline = time.monotonic() + 20
            while not _waiting_on_a_lock(locker):  # the first request is inside its INSERT, holding the key
                assert time.monotonic() < deadline, "the first request never reached its INSERT"
                time.sleep(0.05)
            second = requests.post(url, json=body, headers=headers, timeout=30)
            assert second.status_code == 409 and "still running" in second.json()["detail"]
            locker.commit()  # releases the lock: the first request's INSERT goes through
            assert first.result().status_code == 201
    replay = requests.post(url, json=body, headers=headers, timeout=30)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert Objective.objects.filter(organization=org).count() == 1
