"""Hostile input never reaches a 500 or an HTML page on /api/: NUL characters, broken Authorization headers, deeply
nested JSON, oversized bodies, unsafe methods on unknown paths, and unhandled errors."""

import pytest

from tests.factories_okr import CycleFactory, KeyResultFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/o/acme/"


@pytest.fixture
def kr(org, admin):
    cycle = CycleFactory(organization=org)
    return KeyResultFactory(objective=ObjectiveFactory(cycle=cycle, owner=admin), owner=admin)


# --- NUL characters -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("collection", ["objectives", "key-results"])
@pytest.mark.parametrize("q", ["\x00", "ok\x00", "\x00ok"])
def test_a_search_with_a_nul_character_is_a_400_naming_q(collection, q, admin, kr, api_client_for):
    r = api_client_for(admin).get(API + collection, {"q": q})
    assert r.status_code == 400, r.content
    assert list(r.json()) == ["q"]


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("objectives", "cycle"),
        ("objectives", "team"),
        ("objectives", "owner"),
        ("objectives", "status"),
        ("objectives", "signal"),
        ("key-results", "objective"),
        ("key-results", "status"),
        ("contributions", "objective"),
        ("map", "cycle"),
        ("map", "team"),
        ("map", "signal"),
        ("map", "detail"),
        ("webhooks/deliveries", "endpoint"),
        ("webhooks/deliveries", "status"),
        ("objectives", "cursor"),
        ("objectives", "page_size"),
    ],
)
def test_every_query_filter_answers_a_nul_character_with_a_json_4xx(path, param, admin, kr, api_client_for):
    r = api_client_for(admin).get(API + path, {param: "ab\x00cd"})
    assert 200 <= r.status_code < 500, (param, r.status_code)
    assert r["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("objectives", {"title": "a\x00b"}),
        ("key-results", {"title": "a\x00b"}),
        ("cycles", {"name": "a\x00b", "start_date": "2026-01-01", "end_date": "2026-03-31"}),
        ("teams", {"name": "a\x00b"}),
        ("initiatives", {"title": "a\x00b"}),
    ],
)
def test_nul_characters_in_bodies_are_a_400(path, body, admin, kr, api_client_for):
    r = api_client_for(admin).post(API + path, body, format="json")
    assert r.status_code == 400, r.content
    assert r["Content-Type"].startswith("application/json")


def test_a_nul_character_in_a_check_in_comment_is_a_400(admin, kr, api_client_for):
    r = api_client_for(admin).post(
        API + f"key-results/{kr.public_id}/check-ins", {"value": 60, "comment": "a\x00b"}, format="json"
    )
    assert r.status_code == 400 and "comment" in r.json()


# --- Authorization header -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("secret", ["okr_ab\x00cd_xyz", "okr_abcd_x\x00yz", "\x00"])
def test_a_token_with_a_nul_character_is_a_json_401(secret, admin, client):
    r = client.get(API + "me", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert r.status_code == 401
    assert r.json() == {"detail": "Invalid or revoked API token."}


# --- Deeply nested JSON -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [100_000, 5_000])
def test_a_deeply_nested_json_body_is_a_400_parse_error(depth, admin, kr, api_client_for):
    body = "[" * depth + "]" * depth
    r = api_client_for(admin).post(API + f"key-results/{kr.public_id}/check-ins", body, content_type="application/json")
    assert r.status_code == 400
    assert r.json() == {"detail": "JSON parse error - the body is nested too deeply."}


def test_a_nested_but_reasonable_body_still_parses(admin, kr, api_client_for):
    r = api_client_for(admin).post(
        API + f"key-results/{kr.public_id}/check-ins", {"value": 60, "comment": [[["x"]]]}, format="json"
    )
    assert r.status_code == 400 and "comment" in r.json()  # a field error, so the body was parsed


# --- Oversized bodies ---------------------------------------------------------------------------------------------
TOO_LARGE = {"detail": "The request body is too large: at most 2,621,440 bytes (2.5 MB)."}


def test_a_json_body_over_the_upload_limit_is_a_json_413(admin, kr, api_client_for):
    body = '{"value": 1, "comment": "' + "x" * 3_000_000 + '"}'
    api = api_client_for(admin)
    r = api.post(API + f"key-results/{kr.public_id}/check-ins", body, content_type="application/json")
    assert r.status_code == 413 and r.json() == TOO_LARGE
    r = api.post(API + "objectives", body, content_type="application/json")
    assert r.status_code == 413 and r.json() == TOO_LARGE


def test_a_form_body_over_the_upload_limit_is_a_json_413(admin, kr, api_client_for):
    body = "title=" + "x" * 3_000_000
    r = api_client_for(admin).post(API + "objectives", body, content_type="application/x-www-form-urlencoded")
    assert r.status_code == 413 and r.json() == TOO_LARGE


@pytest.mark.urls("tests.urls_boom")
def test_django_s_own_bad_request_is_json_under_api_and_html_elsewhere(client):
    """Outside DRF, Django answers a SuspiciousOperation with handler400."""
    big = "f=" + "x" * 3_000_000
    r = client.post("/api/read-form", big, content_type="application/x-www-form-urlencoded")
    assert r.status_code == 413 and r.json() == TOO_LARGE
    many = "&".join(f"f{i}=1" for i in range(1_001))  # over DATA_UPLOAD_MAX_NUMBER_FIELDS
    r = client.post("/api/read-form", many, content_type="application/x-www-form-urlencoded")
    assert r.status_code == 400 and r.json() == {"detail": "Bad request."}
    r = client.post("/read-form", big, content_type="application/x-www-form-urlencoded")
    assert r.status_code == 400 and r["Content-Type"].startswith("text/html")


# --- Unhandled errors ---------------------------------------------------------------------------------------------
@pytest.mark.urls("tests.urls_boom")
@pytest.mark.parametrize("path", ["/api/boom-plain", "/api/boom-drf"])
def test_an_unhandled_error_under_api_is_a_json_500(path, client):
    client.raise_request_exception = False
    r = client.get(path)
    assert r.status_code == 500
    assert r["Content-Type"] == "application/json"
    assert r.json() == {"detail": "Server error."}


@pytest.mark.urls("tests.urls_boom")
def test_an_unhandled_error_elsewhere_is_the_html_page(client):
    client.raise_request_exception = False
    r = client.get("/boom")
    assert r.status_code == 500 and r["Content-Type"].startswith("text/html")
    assert b"Something went wrong on our side" in r.content
