"""Progress is never emitted as -0.0 (a KR at its baseline whose target is below it: 0 / -50)."""

import pytest

from objectives.progress import kr_progress
from tests.factories_okr import KeyResultFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db


def test_kr_progress_at_the_baseline_of_a_falling_target_is_plain_zero():
    value = kr_progress(kind="increase", baseline=100, target=50, current=100).value
    assert value == 0 and str(value) == "0.0"


def test_no_negative_zero_in_the_api_or_the_map(org, member, cycle, api_client_for, client_for):
    o = ObjectiveFactory(cycle=cycle, owner=member)
    kr = KeyResultFactory(objective=o, owner=member, kind="increase", baseline=100, target=50, current=100)
    api = api_client_for(member)
    base = f"/api/v1/o/{org.slug}/"
    for path in (
        "key-results",
        f"key-results/{kr.public_id}",
        "objectives",
        f"objectives/{o.public_id}",
        f"map?cycle={cycle.public_id}",
    ):
        r = api.get(base + path)
        assert r.status_code == 200, path
        assert b"-0.0" not in r.content and b"-0," not in r.content, path
    assert api.get(base + f"key-results/{kr.public_id}").json()["progress"] == 0
    r = api.post(base + f"key-results/{kr.public_id}/check-ins", {"value": 100}, format="json")
    assert r.status_code == 201 and b"-0.0" not in r.content
    page = client_for(member).get(f"/o/{org.slug}/objectives/{o.public_id}/").content.decode()
    assert "-0%" not in page
