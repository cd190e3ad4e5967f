"""Cycle updates keep the nesting rules cycle_create applies (a year contains its quarters, a quarter stays inside
its year), and a duplicate name is an error on the name; through the API and the HTML cycle form alike."""

import datetime as dt

import pytest
from django.urls import reverse

from objectives.models import Cycle
from tests.factories_okr import CycleFactory

pytestmark = pytest.mark.django_db


def api_url(org, path):
    return f"/api/v1/o/{org.slug}/{path}"


@pytest.fixture
def year(org):
    return CycleFactory(
        organization=org, name="FY 2026", kind="year", start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31)
    )


@pytest.fixture
def q4(org, year):
    return CycleFactory(
        organization=org, name="Q4 2026", parent=year, start_date=dt.date(2026, 10, 1), end_date=dt.date(2026, 12, 31)
    )


def _unchanged(cycle, **fields):
    cycle.refresh_from_db()
    return all(getattr(cycle, k) == v for k, v in fields.items())


def test_a_year_cannot_shrink_to_leave_a_quarter_outside(org, admin, year, q4, api_client_for):
    api = api_client_for(admin)
    r = api.patch(api_url(org, f"cycles/{year.public_id}"), {"end_date": "2026-11-30"})
    assert r.status_code == 400
    assert r.json() == {"end_date": ["Q4 2026 ends on 2026-12-31; FY 2026 must contain it."]}
    r = api.patch(api_url(org, f"cycles/{year.public_id}"), {"start_date": "2026-11-01"})
    assert r.status_code == 400 and list(r.json()) == ["start_date"]
    assert _unchanged(year, start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31))
    # Growing, or shrinking around the quarters, is fine.
    r = api.patch(api_url(org, f"cycles/{year.public_id}"), {"start_date": "2026-02-01", "end_date": "2027-01-31"})
    assert r.status_code == 200, r.json()


def test_a_year_with_quarters_cannot_change_kind(org, admin, year, q4, api_client_for):
    r = api_client_for(admin).patch(api_url(org, f"cycles/{year.public_id}"), {"kind": "quarter"})
    assert r.status_code == 400
    assert r.json() == {"kind": ["FY 2026 contains other cycles (Q4 2026); move them out before changing its kind."]}
    assert _unchanged(year, kind="year")
    q4.delete()
    r = api_client_for(admin).patch(api_url(org, f"cycles/{year.public_id}"), {"kind": "custom"})
    assert r.status_code == 200 and r.json()["kind"] == "custom"


def test_a_quarter_moved_must_stay_inside_its_year(org, admin, year, q4, api_client_for):
    api = api_client_for(admin)
    r = api.patch(api_url(org, f"cycles/{q4.public_id}"), {"end_date": "2027-01-31"})
    assert r.status_code == 400 and r.json() == {"parent": ["The cycle must lie inside FY 2026."]}
    r = api.patch(api_url(org, f"cycles/{q4.public_id}"), {"start_date": "2026-09-01"})
    assert r.status_code == 200


def test_the_html_cycle_form_applies_the_same_rules(org, admin, year, q4, client_for):
    client = client_for(admin)
    edit = reverse("objectives:cycle_edit", args=[org.slug, year.public_id])
    data = {"name": "FY 2026", "kind": "year", "start_date": "2026-01-01", "end_date": "2026-11-30"}
    r = client.post(edit, data)
    assert r.status_code == 422 and "Q4 2026 ends on 2026-12-31; FY 2026 must contain it." in r.content.decode()
    r = client.post(edit, {**data, "end_date": "2026-12-31", "kind": "quarter"})
    assert r.status_code == 422 and "move them out before changing its kind" in r.content.decode()
    assert _unchanged(year, kind="year", end_date=dt.date(2026, 12, 31))


def test_a_duplicate_cycle_name_is_an_error_on_the_name(org, admin, year, q4, api_client_for, client_for):
    api = api_client_for(admin)
    body = {"name": "Q4 2026", "kind": "quarter", "start_date": "2027-01-01", "end_date": "2027-03-31"}
    r = api.post(api_url(org, "cycles"), body)
    assert r.status_code == 400 and r.json() == {"name": ['A cycle named "Q4 2026" already exists.']}
    r = api.patch(api_url(org, f"cycles/{year.public_id}"), {"name": " Q4 2026 "})
    assert r.status_code == 400 and r.json() == {"name": ['A cycle named "Q4 2026" already exists.']}
    r = client_for(admin).post(reverse("objectives:cycle_manage", args=[org.slug]), body)
    assert r.status_code == 422
    text = r.content.decode()
    assert "A cycle named &quot;Q4 2026&quot; already exists." in text and "Organization and Name" not in text
    # The same name in another organization is fine.
    CycleFactory(organization=CycleFactory().organization, name="FY 2026")
    assert Cycle.objects.filter(name="FY 2026").count() == 2
