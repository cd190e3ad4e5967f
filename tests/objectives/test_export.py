"""The cycle as CSV: one row per key result in the board's order, the board's filters, search and privacy, the
same numbers as the page, formula-looking cells neutralised, constant queries."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from objectives import export
from tests.factories import TeamFactory
from tests.factories_okr import KeyResultFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db


def _url(cycle):
    return reverse("objectives:cycle_export", args=[cycle.organization.slug, cycle.public_id])


def _read(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads the file as UTF-8
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_one_row_per_key_result_in_board_order_with_the_pages_numbers(client_for, admin, member, cycle):
    team = TeamFactory(organization=cycle.organization, name="Growth")
    company = ObjectiveFactory(cycle=cycle, owner=admin, title="Grow revenue", status="active")
    KeyResultFactory(
        objective=company,
        owner=member,
        title="ARR from 1.2M to 3M",
        kind="increase",
        unit="currency",
        baseline=1_200_000,
        target=3_000_000,
        current=2_100_000,
        status="active",
        confidence=7,
    )
    KeyResultFactory(objective=company, owner=member, title="Launch the partner portal", kind="milestone")
    ObjectiveFactory(cycle=cycle, owner=member, level="team", team=team, title="No KRs yet")
    response = client_for(member).get(_url(cycle))
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="{cycle.organization.slug}-{cycle.name.lower().replace(" ", "-")}-okrs.csv"'
    )
    rows = _read(response)
    assert [r["Key result"] for r in rows] == ["ARR from 1.2M to 3M", "Launch the partner portal", ""]
    arr = rows[0]
    assert arr["Level"] == "Company" and arr["Objective"] == "Grow revenue"
    assert arr["Progress %"] == "50" and arr["Confidence"] == "7" and arr["Kind"] == "Increase to"
    assert arr["Key result owner"] == member.user.display_name
    assert "Task in disguise" in rows[1]["Signals"]
    assert rows[2]["Team"] == "Growth" and rows[2]["Objective"] == "No KRs yet"
    assert rows[2]["Objective id"] and rows[2]["Key result id"] == ""


def test_the_export_follows_filters_search_and_privacy(client_for, admin, member, cycle):
    ObjectiveFactory(cycle=cycle, owner=admin, title="Admin secret", visibility="private")
    ObjectiveFactory(cycle=cycle, owner=member, title="Onboarding push")
    ObjectiveFactory(cycle=cycle, owner=admin, title="Reliability")
    client = client_for(member)
    assert {r["Objective"] for r in _read(client.get(_url(cycle)))} == {"Onboarding push", "Reliability"}
    assert [r["Objective"] for r in _read(client.get(_url(cycle), {"q": "onboard"}))] == ["Onboarding push"]
    mine = _read(client.get(_url(cycle), {"owner": str(member.public_id)}))
    assert [r["Objective"] for r in mine] == ["Onboarding push"]
    assert "Admin secret" in {r["Objective"] for r in _read(client_for(admin).get(_url(cycle)))}


def test_the_board_links_the_export_with_its_filters(client_for, member, cycle):
    ObjectiveFactory(cycle=cycle, owner=member, title="Onboarding push")
    page = client_for(member).get(
        reverse("objectives:cycle_detail", args=[cycle.organization.slug, cycle.public_id]), {"q": "push"}
    )
    assert f'href="{_url(cycle)}?q=push"' in page.content.decode()


def test_formula_looking_cells_are_neutralised(client_for, member, cycle):
    ObjectiveFactory(cycle=cycle, owner=member, title='=HYPERLINK("http://evil","x")')
    ObjectiveFactory(cycle=cycle, owner=member, title="@SUM(A1)")
    titles = {r["Objective"] for r in _read(client_for(member).get(_url(cycle)))}
    assert titles == {'\'=HYPERLINK("http://evil","x")', "'@SUM(A1)"}
    assert export._cell("-5") == "'-5" and export._cell("5") == "5" and export._cell(None) == ""


def test_a_viewer_may_export_and_the_query_count_does_not_grow(client_for, viewer, admin, cycle):
    client = client_for(viewer)
    ObjectiveFactory(cycle=cycle, owner=admin, title="First")
    client.get(_url(cycle))  # warm up session and caches

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(_url(cycle)).status_code == 200
        return len(ctx.captured_queries)

    small = count()
    for i in range(40):
        objective = ObjectiveFactory(cycle=cycle, owner=admin, title=f"More {i}")
        KeyResultFactory(objective=objective, owner=admin)
        KeyResultFactory(objective=objective, owner=admin)
    assert count() == small
    assert len(_read(client.get(_url(cycle)))) == 81


def test_another_orgs_cycle_is_404(client_for, member, outsider, cycle):
    assert client_for(outsider).get(_url(cycle)).status_code == 404


def test_a_maintain_krs_target_is_its_band(client_for, member, cycle):
    objective = ObjectiveFactory(cycle=cycle, owner=member, title="Stay fast", status="active")
    common = {"objective": objective, "owner": member, "kind": "maintain", "unit": "custom", "unit_label": "ms"}
    KeyResultFactory(**common, title="Band", band_low=80, band_high=250, baseline=180, current=182, position=0)
    KeyResultFactory(**common, title="Ceiling", band_low=None, band_high=300, baseline=120, current=120, position=1)
    rows = _read(client_for(member).get(_url(cycle)))
    assert [(r["Baseline"], r["Target"]) for r in rows] == [("180 ms", "80 ms–250 ms"), ("120 ms", "≤ 300 ms")]
