"""Error bodies say the same thing the same way: 404 is "Not found." (never a model name), a bad cursor is a 400 on
`cursor` however it is bad, and filter errors are lists under the parameter's name."""

import base64
import uuid

import pytest

from tests.factories_okr import CycleFactory, KeyResultFactory, ObjectiveFactory
from webhooks.services import webhook_endpoint_create

pytestmark = pytest.mark.django_db

API = "/api/v1/o/acme/"
MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def api(admin, api_client_for):
    cycle = CycleFactory(organization=admin.organization)
    KeyResultFactory(objective=ObjectiveFactory(cycle=cycle, owner=admin), owner=admin)
    return api_client_for(admin)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", f"key-results/{MISSING}"),
        ("patch", f"key-results/{MISSING}"),
        ("post", f"key-results/{MISSING}/activate"),
        ("get", f"key-results/{MISSING}/check-ins"),
        ("post", f"key-results/{MISSING}/check-ins"),
        ("get", f"objectives/{MISSING}"),
        ("post", f"objectives/{MISSING}/close"),
        ("get", f"cycles/{MISSING}"),
        ("get", f"contributions/{MISSING}"),
        ("get", f"initiatives/{MISSING}"),
        ("get", f"members/{MISSING}"),
        ("get", f"teams/{MISSING}"),
        ("get", f"webhooks/endpoints/{MISSING}"),
        ("get", f"webhooks/deliveries/{MISSING}"),
        ("get", "no-such-collection"),
    ],
)
def test_every_api_404_says_not_found(method, path, api):
    r = getattr(api, method)(API + path, {"value": 1}, format="json")
    assert r.status_code == 404, r.content
    assert r.json() == {"detail": "Not found."}


def _cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "cD0yMDI2",  # "p=2026": decodes, but 2026 is no creation time
        _cursor("p=not a date"),
        _cursor("p=2026-13-45T00:00:00Z"),
        _cursor("o=-1"),
        _cursor("r=x"),
        _cursor("p=2026\x00"),
    ],
)
@pytest.mark.parametrize("collection", ["objectives", "key-results", "cycles", "contributions", "members"])
def test_a_bad_cursor_is_a_400_on_cursor(collection, cursor, api):
    r = api.get(API + collection, {"cursor": cursor})
    assert r.status_code == 400, (collection, cursor, r.content)
    assert r.json() == {"cursor": ["Invalid cursor."]}


def test_a_real_cursor_still_pages(api, admin):
    for _ in range(3):
        ObjectiveFactory(cycle=CycleFactory(organization=admin.organization), owner=admin)
    first = api.get(API + "objectives", {"page_size": 2}).json()
    second = api.get(first["next"]).json()
    assert second["results"] and not {o["id"] for o in second["results"]} & {o["id"] for o in first["results"]}


def test_webhook_delivery_filters_answer_lists_naming_the_parameter(api):
    r = api.get(API + "webhooks/deliveries", {"status": "x"})
    assert r.status_code == 400
    assert list(r.json()) == ["status"] and r.json()["status"][0].startswith("Choose one of: ")
    for endpoint in (str(uuid.uuid4()), "nope"):
        r = api.get(API + "webhooks/deliveries", {"endpoint": endpoint})
        assert r.status_code == 400
        assert r.json() == {"endpoint": ["No such endpoint in this organization."]}


def test_another_orgs_webhook_endpoint_is_no_filter_here(api, outsider):
    foreign = webhook_endpoint_create(
        org=outsider.organization, actor=outsider, url="https://example.com/hook", events=["checkin.created"]
    )
    r = api.get(API + "webhooks/deliveries", {"endpoint": str(foreign.public_id)})
    assert r.status_code == 400 and list(r.json()) == ["endpoint"]


def test_the_map_detail_parameter_is_documented_with_its_choice(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    params = {p["name"]: p for p in schema["paths"]["/api/v1/o/{org_slug}/map"]["get"]["parameters"]}
    assert params["detail"]["schema"]["enum"] == ["signals"]
    r = api.get(API + "map", {"detail": "bogus"})
    assert r.status_code == 400 and r.json() == {"detail": ["Choose: signals."]}
