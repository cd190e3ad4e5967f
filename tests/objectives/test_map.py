"""The alignment map: tree shape, privacy, warnings, filters, roles, tenancy, query counts (selector, page, API)."""

import datetime as dt
import json

import jsonschema
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

from accounts.models import Role, TeamMember
from initiatives.models import Initiative
from objectives import health, map_page
from objectives import map as okr_map
from objectives.assembly import Context
from objectives.models import KeyResult, Objective
from objectives.progress import kr_progress
from tests.factories import MembershipFactory, OrganizationFactory, TeamFactory
from tests.factories_okr import (
    ContributionFactory,
    CycleFactory,
    InitiativeFactory,
    KeyResultFactory,
    ObjectiveFactory,
)

L = Objective.Level
V = Objective.Visibility


def _map(org, membership, cycle, **kw):
    return okr_map.alignment_map(org=org, membership=membership, cycle=cycle, **kw)


def _walk(roots):
    stack = list(roots)
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node["children"])
        for kr in node["key_results"]:
            stack.extend(kr["children"])


def _page(client, org, **params):
    return client.get(reverse("okrmap:map", args=[org.slug]), params)


def _api(api, org, **params):
    return api.get(f"/api/v1/o/{org.slug}/map", params)


@pytest.fixture
def cascade(org, owner, member):
    """Company objective with two KRs; one team objective aligned to KR 1, one to the objective as a whole (and
    contributing to KR 2 as a secondary edge); a personal objective under the team objective's KR."""
    cycle = CycleFactory(organization=org, name="Q now")
    company = ObjectiveFactory(cycle=cycle, owner=owner, title="Win the market", level=L.COMPANY)
    kr1 = KeyResultFactory(objective=company, title="Increase activation from 30% to 50%", position=0)
    kr2 = KeyResultFactory(objective=company, title="Increase revenue from 1M to 2M", position=1)
    team = TeamFactory(organization=org, name="Growth")
    by_kr = ObjectiveFactory(
        cycle=cycle, owner=member, title="Fix onboarding", level=L.TEAM, team=team, parent_key_result=kr1
    )
    by_objective = ObjectiveFactory(
        cycle=cycle, owner=member, title="Grow sales", level=L.TEAM, parent_objective=company
    )
    ContributionFactory(objective=by_objective, key_result=kr2, weight="0.5")
    team_kr = KeyResultFactory(objective=by_kr, title="Reduce setup time from 3 to 1 days", kind="decrease")
    personal = ObjectiveFactory(cycle=cycle, owner=member, title="Learn the funnel", level=L.PERSONAL)
    personal.parent_key_result = team_kr
    personal.save()
    return {
        "cycle": cycle,
        "company": company,
        "kr1": kr1,
        "kr2": kr2,
        "by_kr": by_kr,
        "by_objective": by_objective,
        "team_kr": team_kr,
        "personal": personal,
        "team": team,
    }


# --- Tree shape ---------------------------------------------------------------------------------------------------
def test_alignment_to_a_kr_nests_under_that_kr_and_to_an_objective_under_the_objective(org, member, cascade):
    result = _map(org, member, cascade["cycle"])

    [root] = result["roots"]
    assert root["id"] == str(cascade["company"].public_id)  # ids are text, as in the JSON
    kr1, kr2 = root["key_results"]
    assert [c["id"] for c in kr1["children"]] == [str(cascade["by_kr"].public_id)]
    assert not kr2["children"]
    assert [c["id"] for c in root["children"]] == [str(cascade["by_objective"].public_id)]
    # Three levels: the personal objective sits under the team objective's KR.
    team_node = kr1["children"][0]
    assert [c["id"] for c in team_node["key_results"][0]["children"]] == [str(cascade["personal"].public_id)]
    assert result["counts"] == {"objectives": 4, "key_results": 3, "initiatives": 0, "shown": 4}


def test_contributions_are_extra_edges_not_a_second_parent(org, member, cascade):
    result = _map(org, member, cascade["cycle"])

    [root] = result["roots"]
    kr2 = root["key_results"][1]
    grow = root["children"][0]
    assert grow["contributes_to"] == [
        {
            "key_result_id": str(cascade["kr2"].public_id),
            "key_result_title": "Increase revenue from 1M to 2M",
            "objective_id": str(cascade["company"].public_id),
            "weight": 0.5,
        }
    ]
    assert kr2["contributors"] == [
        {"objective_id": grow["id"], "objective_title": "Grow sales", "weight": 0.5},
    ]
    assert sum(1 for n in _walk(result["roots"]) if n["id"] == grow["id"]) == 1  # still one place in the tree


def test_quarter_map_includes_the_year_around_it(org, owner):
    year = CycleFactory(
        organization=org, name="FY", kind="year", start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31)
    )
    quarter = CycleFactory(
        organization=org, name="Q2", parent=year, start_date=dt.date(2026, 4, 1), end_date=dt.date(2026, 6, 30)
    )
    other_quarter = CycleFactory(
        organization=org, name="Q3", parent=year, start_date=dt.date(2026, 7, 1), end_date=dt.date(2026, 9, 30)
    )
    annual = ObjectiveFactory(cycle=year, owner=owner, title="Annual goal")
    annual_kr = KeyResultFactory(objective=annual)
    ObjectiveFactory(cycle=quarter, owner=owner, title="Q2 push", level=L.TEAM, parent_key_result=annual_kr)
    ObjectiveFactory(cycle=other_quarter, owner=owner, title="Q3 push", level=L.TEAM, parent_key_result=annual_kr)

    q2 = _map(org, owner, quarter)
    assert [n["title"] for n in _walk(q2["roots"])] == ["Annual goal", "Q2 push"]
    assert [c["name"] for c in q2["cycle"]["includes"]] == ["FY"]
    whole_year = _map(org, owner, year)
    assert sorted(n["title"] for n in _walk(whole_year["roots"])) == ["Annual goal", "Q2 push", "Q3 push"]


def test_objective_aligned_outside_the_map_is_a_root_but_not_an_orphan(org, owner):
    cycle, old = CycleFactory(organization=org), CycleFactory(organization=org, name="Old")
    old_kr = KeyResultFactory(objective=ObjectiveFactory(cycle=old, owner=owner, title="Last year's goal"))
    ObjectiveFactory(cycle=cycle, owner=owner, level=L.TEAM, title="Carried on", parent_key_result=old_kr)
    ObjectiveFactory(cycle=cycle, owner=owner, level=L.TEAM, title="Floating")

    roots = {n["title"]: n for n in _map(org, owner, cycle)["roots"]}
    assert roots["Carried on"]["aligned_outside"] and not roots["Carried on"]["orphan"]
    assert roots["Floating"]["orphan"] and not roots["Carried on"]["orphan"]
    orphans = _map(org, owner, cycle, signal="orphan")
    assert [n["title"] for n in orphans["roots"]] == ["Floating"]


def test_an_alignment_loop_does_not_hide_or_hang_the_map(org, owner):
    cycle = CycleFactory(organization=org)
    a = ObjectiveFactory(cycle=cycle, owner=owner, title="A", level=L.TEAM)
    b = ObjectiveFactory(cycle=cycle, owner=owner, title="B", level=L.TEAM, parent_objective=a)
    Objective.objects.filter(pk=a.pk).update(parent_objective=b)  # the services refuse this; the map survives it

    result = _map(org, owner, cycle)
    assert sorted(n["title"] for n in _walk(result["roots"])) == ["A", "B"]
    json.dumps(result, default=str)  # no cycle left in the tree


# --- Status, signals, warnings ------------------------------------------------------------------------------------
@pytest.fixture
def troubled(org, owner, member):
    """One of each warning the panel counts."""
    cycle = CycleFactory(organization=org)
    company = ObjectiveFactory(cycle=cycle, owner=owner, title="Company goal", level=L.COMPANY)
    watermelon = KeyResultFactory(
        objective=company, title="Increase NPS from 30 to 50", baseline=30, target=50, current=31, confidence=8
    )
    for _ in range(4):
        InitiativeFactory(key_result=watermelon, status=Initiative.Status.DONE)
    disguised = KeyResultFactory(objective=company, title="Launch the partner portal", kind="milestone", current=0)
    InitiativeFactory(key_result=disguised)
    no_work = KeyResultFactory(objective=company, title="Increase trials from 10 to 20", current=15)
    stale = KeyResultFactory(objective=company, title="Reduce churn from 5 to 3", kind="decrease", current=4)
    InitiativeFactory(key_result=stale)
    KeyResult.objects.filter(pk=stale.pk).update(last_checkin_at=timezone.now() - dt.timedelta(days=40))
    for kr in (watermelon, no_work):
        KeyResult.objects.filter(pk=kr.pk).update(last_checkin_at=timezone.now())
    unowned = ObjectiveFactory(cycle=cycle, owner=None, title="Nobody's", level=L.TEAM, parent_objective=company)
    KeyResultFactory(objective=unowned, owner=None, title="Increase something from 1 to 2")  # a draft, unowned
    ObjectiveFactory(cycle=cycle, owner=member, title="Lonely team goal", level=L.TEAM)
    return {"cycle": cycle, "watermelon": watermelon, "stale": stale}


def test_warnings_count_each_problem_once(org, owner, troubled):
    result = _map(org, owner, troubled["cycle"])
    counts = {w["code"]: (w["key_results"], w["objectives"]) for w in result["warnings"]}

    assert counts["watermelon"] == (1, 0)
    assert counts["task_in_disguise"] == (1, 0)
    assert counts["no_work"] == (1, 0)  # the draft KR has no initiative either, but only active KRs count
    assert counts["unowned"] == (1, 1)
    assert counts["stale"] == (1, 0)
    assert counts["orphan"] == (0, 1)


def test_stale_greys_out_the_kr_whatever_its_pace(org, owner, troubled):
    result = _map(org, owner, troubled["cycle"])
    krs = {kr["title"]: kr for kr in result["roots"][0]["key_results"]}

    assert krs["Reduce churn from 5 to 3"]["status"] == "stale"
    assert krs["Increase NPS from 30 to 50"]["status"] in {"on_track", "at_risk", "off_track"}
    assert "watermelon" in krs["Increase NPS from 30 to 50"]["signals"]
    assert krs["Increase NPS from 30 to 50"]["initiatives"] == {"done": 4}
    assert "reasons" not in krs["Increase NPS from 30 to 50"]  # codes only by default

    detailed = _map(org, owner, troubled["cycle"], detail=True)
    krs = {kr["title"]: kr for kr in detailed["roots"][0]["key_results"]}
    assert "4 of 4 initiatives are done" in krs["Increase NPS from 30 to 50"]["reasons"]["watermelon"]
    assert "2 check-in periods" in krs["Reduce churn from 5 to 3"]["status_reason"]


def test_the_shared_stale_clock_agrees_with_health_is_stale(org):
    now = dt.datetime(2026, 5, 14, 10, 30, tzinfo=dt.UTC)  # a Thursday
    ctx = Context.for_org(org, now)
    for tz, weekday, hour in [("UTC", 0, 9), ("Europe/Berlin", 3, 11), ("America/New_York", 4, 23)]:
        cutoff = ctx.stale_cutoff(tz, weekday, hour)  # the map compares epochs: cutoff.timestamp()
        for days in (0, 3, 6, 7, 8, 10, 13, 14, 15, 21, 40):
            for minutes in (-61, 0, 59):
                last = now - dt.timedelta(days=days, minutes=minutes)
                expected = health.is_stale(last_activity=last, now=now, weekday=weekday, hour=hour, tz=tz)
                assert (last < cutoff) == expected, (tz, weekday, hour, days, minutes)
                assert (last.timestamp() < cutoff.timestamp()) == expected


def test_signal_filter_keeps_matches_and_their_ancestors_as_context(org, owner, member, cascade):
    InitiativeFactory(key_result=cascade["team_kr"], status=Initiative.Status.DONE)
    KeyResult.objects.filter(pk=cascade["team_kr"].pk).update(current=3)  # no progress, all work done
    result = _map(org, owner, cascade["cycle"], signal="watermelon")

    shown = {n["title"]: n for n in _walk(result["roots"])}
    assert set(shown) == {"Win the market", "Fix onboarding"}
    assert shown["Win the market"]["context"] and not shown["Fix onboarding"]["context"]
    assert result["counts"]["shown"] == 2
    # The panel still counts the whole map.
    assert next(w for w in result["warnings"] if w["code"] == "watermelon")["key_results"] == 1


def test_team_filter(org, owner, cascade):
    result = _map(org, owner, cascade["cycle"], team=cascade["team"])
    assert {n["title"] for n in _walk(result["roots"])} == {"Win the market", "Fix onboarding"}


# --- Privacy ------------------------------------------------------------------------------------------------------
@pytest.fixture
def secret(org, owner, admin, member, cascade):
    """A private objective of the admin's, with an org-visible child aligned to its KR."""
    private = ObjectiveFactory(
        cycle=cascade["cycle"], owner=admin, title="Secret acquisition plan", level=L.COMPANY, visibility=V.PRIVATE
    )
    private_kr = KeyResultFactory(objective=private, title="Buy competitor X for 10M")
    ObjectiveFactory(cycle=cascade["cycle"], owner=member, title="Prepare the data room", parent_key_result=private_kr)
    ContributionFactory(objective=cascade["by_objective"], key_result=private_kr)
    return private


def test_private_objective_of_someone_else_is_absent_and_its_children_do_not_leak_it(
    org, member, secret, client_for, api_client_for, cascade
):
    titles = {n["title"] for n in _walk(_map(org, member, cascade["cycle"])["roots"])}
    assert "Secret acquisition plan" not in titles
    assert "Prepare the data room" in titles

    page = _page(client_for(member), org, cycle=cascade["cycle"].public_id)
    api = _api(api_client_for(member), org, cycle=cascade["cycle"].public_id)
    assert page.status_code == 200 and api.status_code == 200
    for body in (page.content.decode(), api.content.decode()):
        assert "Prepare the data room" in body
        assert "Secret acquisition plan" not in body
        assert "Buy competitor X" not in body
        assert str(secret.public_id) not in body
    child = next(n for n in api.json()["roots"] if n["title"] == "Prepare the data room")
    assert child["aligned_outside"] is True and child["orphan"] is False


def test_the_owner_and_admins_see_the_private_objective(org, admin, secret, cascade):
    titles = {n["title"] for n in _walk(_map(org, admin, cascade["cycle"])["roots"])}
    assert {"Secret acquisition plan", "Prepare the data room"} <= titles


def test_team_only_objective_visible_to_its_team(org, owner, cascade):
    team_only = ObjectiveFactory(
        cycle=cascade["cycle"], owner=owner, title="Growth internals", visibility=V.TEAM, team=cascade["team"]
    )
    insider = MembershipFactory(organization=org, role=Role.MEMBER)
    outsider_member = MembershipFactory(organization=org, role=Role.MEMBER)
    TeamMember.objects.create(organization=org, team=cascade["team"], membership=insider)
    assert team_only.title in {n["title"] for n in _walk(_map(org, insider, cascade["cycle"])["roots"])}
    assert team_only.title not in {n["title"] for n in _walk(_map(org, outsider_member, cascade["cycle"])["roots"])}


# --- Tenancy, roles, input ----------------------------------------------------------------------------------------
def test_other_org_is_404_on_page_and_api(org, outsider, cascade, client_for, api_client_for):
    assert _page(client_for(outsider), org).status_code == 404
    assert _api(api_client_for(outsider), org).status_code == 404


def test_a_cycle_of_another_org_is_404_on_the_page_and_400_on_the_api(
    org, other_org, member, client_for, api_client_for
):
    foreign = CycleFactory(organization=other_org)
    assert _page(client_for(member), org, cycle=foreign.public_id).status_code == 404
    response = _api(api_client_for(member), org, cycle=foreign.public_id)
    assert response.status_code == 400 and "cycle" in response.json()


def test_viewer_can_read_page_and_api(org, viewer, cascade, client_for, api_client_for):
    page = _page(client_for(viewer), org)
    assert page.status_code == 200
    assert "Win the market" in page.content.decode()
    api = _api(api_client_for(viewer), org)
    assert api.status_code == 200
    assert api["Content-Type"] == "application/json"
    assert api.json()["roots"][0]["title"] == "Win the market"


def test_anonymous_is_sent_to_login(client, org):
    response = _page(client, org)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_api_rejects_bad_parameters_with_field_names(org, member, cascade, api_client_for):
    api = api_client_for(member)
    assert _api(api, org, cycle="not-a-uuid").json().keys() == {"cycle"}
    assert _api(api, org, team="00000000-0000-0000-0000-000000000000").status_code == 400
    response = _api(api, org, signal="nonsense")
    assert response.status_code == 400 and "signal" in response.json()


def test_page_ignores_unknown_filters_and_404s_a_bad_cycle(org, member, cascade, client_for):
    client = client_for(member)
    assert _page(client, org, team="nope", signal="nonsense").status_code == 200
    assert _page(client, org, cycle="nope").status_code == 404


def test_org_without_cycles(org, member, client_for, api_client_for):
    page = _page(client_for(member), org)
    assert page.status_code == 200 and "No cycle yet" in page.content.decode()
    assert _api(api_client_for(member), org).json()["roots"] == []


# --- The page -----------------------------------------------------------------------------------------------------
def _panel(client, org, cycle):
    return client.get(reverse("okrmap:map", args=[org.slug]), {"cycle": cycle.public_id, "panel": "warnings"})


def test_page_shows_cascade_legend_and_loads_the_warnings_panel_after_its_first_paint(org, owner, troubled, client_for):
    client = client_for(owner)
    body = _page(client, org).content.decode()
    assert "Company goal" in body and "Launch the partner portal" in body
    assert "On track" in body and "Stale" in body  # legend
    # The panel judges every KR of the map: the page shows its tiles as "counting" and asks for it on load.
    assert 'data-testid="map-warnings-loading"' in body and 'hx-trigger="load"' in body
    assert f"?cycle={troubled['cycle'].public_id}&amp;panel=warnings" in body
    assert "Watermelons" in body and 'data-testid="warning-watermelon"' not in body
    assert "… key results" in body
    panel = _panel(client, org, troubled["cycle"])
    text = panel.content.decode()
    assert panel.status_code == 200 and 'data-testid="warning-watermelon"' in text
    assert "Work linked to no goal" in text and "Appears once Asana or Jira is connected" in text
    assert 'id="map-counts" data-testid="map-counts" hx-swap-oob="true"' in text  # fills the page's counts in
    assert "<html" not in text  # a fragment


def test_the_panel_agrees_with_the_api_and_counts_only_what_the_member_may_see(
    org, member, admin, owner, secret, troubled, cascade
):
    InitiativeFactory(key_result=cascade["team_kr"], status=Initiative.Status.DONE)
    for who in (member, admin, owner):
        for cycle in (troubled["cycle"], cascade["cycle"]):
            api = _map(org, who, cycle)
            panel = map_page.map_panel(org=org, membership=who, cycle=cycle)
            assert panel["warnings"] == api["warnings"]
            assert panel["counts"] == {k: v for k, v in api["counts"].items() if k != "shown"}
    hidden = map_page.map_panel(org=org, membership=member, cycle=cascade["cycle"])["counts"]
    seen = map_page.map_panel(org=org, membership=admin, cycle=cascade["cycle"])["counts"]
    assert seen["objectives"] == hidden["objectives"] + 1  # the private objective
    assert seen["key_results"] == hidden["key_results"] + secret.key_results.count()


def test_the_panel_of_another_orgs_cycle_is_404(org, owner, troubled, client_for):
    other_cycle = CycleFactory(organization=OrganizationFactory())
    assert _panel(client_for(owner), org, other_cycle).status_code == 404


def test_htmx_filter_swaps_only_the_map_body(org, owner, cascade, client_for):
    response = client_for(owner).get(
        reverse("okrmap:map", args=[org.slug]),
        {"cycle": cascade["cycle"].public_id, "team": cascade["team"].public_id},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="map-body",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="map-body"')
    assert 'data-title="Fix onboarding"' in body
    assert 'data-title="Grow sales"' not in body  # filtered out (it still shows as a contributor link)


def test_big_maps_defer_deep_groups_and_load_them_on_demand(org, owner, cascade, client_for, monkeypatch):
    monkeypatch.setattr(map_page, "PAGE_BUDGET", 2)
    client = client_for(owner)
    body = _page(client, org, cycle=cascade["cycle"].public_id).content.decode()
    assert 'data-testid="map-more"' in body
    assert "Learn the funnel" not in body  # third level deferred

    group = client.get(
        reverse("okrmap:map", args=[org.slug]),
        {"cycle": cascade["cycle"].public_id, "kr": cascade["team_kr"].public_id},
        HTTP_HX_REQUEST="true",
    )
    assert group.status_code == 200
    assert "Learn the funnel" in group.content.decode()
    missing = client.get(
        reverse("okrmap:map", args=[org.slug]),
        {"cycle": cascade["cycle"].public_id, "kr": "00000000-0000-0000-0000-000000000000"},
    )
    assert missing.status_code == 404


# --- Query counts -------------------------------------------------------------------------------------------------
def _grow(org, owner, cycle, n):
    company = ObjectiveFactory(cycle=cycle, owner=owner, title="Root", level=L.COMPANY)
    kr = KeyResultFactory(objective=company)
    for i in range(n - 1):
        o = ObjectiveFactory(cycle=cycle, owner=owner, level=L.TEAM, parent_key_result=kr, title=f"Child {i}")
        child_kr = KeyResultFactory(objective=o)
        if i % 3 == 0:
            InitiativeFactory(key_result=child_kr)


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


@pytest.mark.parametrize("target", ["selector", "page", "page_signal", "page_group", "panel", "api"])
def test_query_count_is_the_same_for_10_and_300_objectives(org, member, client_for, api_client_for, target):
    small, big = CycleFactory(organization=org, name="small"), CycleFactory(organization=org, name="big")
    _grow(org, member, small, 10)
    _grow(org, member, big, 300)
    client, api = client_for(member), api_client_for(member)
    calls = {
        "selector": lambda c: lambda: _map(org, member, c),
        "page": lambda c: lambda: _page(client, org, cycle=c.public_id),
        "page_signal": lambda c: lambda: _page(client, org, cycle=c.public_id, signal="no_work"),
        "page_group": lambda c: lambda: _page(client, org, cycle=c.public_id, kr=_root_kr(c).public_id),
        "panel": lambda c: lambda: _panel(client, org, c),
        "api": lambda c: lambda: _api(api, org, cycle=c.public_id),
    }[target]
    calls(small)()  # warm caches (sessions, content types)
    n_small, n_big = _queries(calls(small)), _queries(calls(big))
    assert n_small == n_big
    assert n_big <= 16


def _root_kr(cycle):
    return KeyResult.objects.get(objective__cycle=cycle, objective__title="Root")


def test_selector_runs_at_most_seven_queries(org, member, troubled, django_assert_max_num_queries):
    InitiativeFactory(key_result=troubled["stale"], status=Initiative.Status.DONE)
    # cycles, objectives, check-in slots (health_sql), KRs with their codes and initiative counts, owners, teams,
    # contributions
    with django_assert_max_num_queries(7):
        _map(org, member, troubled["cycle"])


def test_page_selector_runs_at_most_eight_queries(org, member, troubled, django_assert_max_num_queries):
    # cycles, objectives, check-in slots, whole-map totals, the rendered objectives' KRs, owners, teams, contributions
    with django_assert_max_num_queries(8):
        map_page.map_page(org=org, membership=member, cycle=troubled["cycle"])
    with django_assert_max_num_queries(7):  # the page's first paint: no whole-map totals
        map_page.map_page(org=org, membership=member, cycle=troubled["cycle"], panel=False)
    with django_assert_max_num_queries(4):  # the panel: cycles, objectives, check-in slots, totals
        map_page.map_panel(org=org, membership=member, cycle=troubled["cycle"])
    with django_assert_max_num_queries(8):  # per-objective roll-up instead of totals
        map_page.map_page(org=org, membership=member, cycle=troubled["cycle"], signal="stale")


# --- API schema ---------------------------------------------------------------------------------------------------
def _nullable_to_json_schema(node):
    """OpenAPI 3.0 `nullable` → JSON Schema, so jsonschema can check a response against our document."""
    if isinstance(node, list):
        return [_nullable_to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: _nullable_to_json_schema(v) for k, v in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def test_api_response_conforms_to_the_openapi_schema(org, member, cascade, troubled, api_client_for):
    spec = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    operation = spec["paths"]["/api/v1/o/{org_slug}/map"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    document = {**_nullable_to_json_schema(schema), "components": _nullable_to_json_schema(spec["components"])}
    for cycle in (cascade["cycle"], troubled["cycle"]):
        data = _api(api_client_for(member), org, cycle=cycle.public_id).json()
        jsonschema.validate(data, document)


# --- Compact API response, reasons on request ---------------------------------------------------------------------
def test_api_default_is_compact_with_dictionaries_and_detail_adds_reasons(org, owner, member, troubled, api_client_for):
    api = api_client_for(member)
    data = _api(api, org, cycle=troubled["cycle"].public_id).json()
    company = data["roots"][0]
    kr = next(k for k in company["key_results"] if k["title"] == "Increase NPS from 30 to 50")
    assert kr["signals"] == ["watermelon"] and "reasons" not in kr and "status_reason" not in kr
    assert data["signals"]["watermelon"] == {"label": "Watermelon", "level": "purple"}
    assert data["people"][company["owner"]]["name"] == owner.user.name
    assert company["cycle"] == str(troubled["cycle"].public_id)

    detailed = _api(api, org, cycle=troubled["cycle"].public_id, detail="signals").json()
    kr = next(k for k in detailed["roots"][0]["key_results"] if k["title"] == "Increase NPS from 30 to 50")
    assert "4 of 4 initiatives are done" in kr["reasons"]["watermelon"]
    assert kr["status_reason"]
    lonely = next(n for n in detailed["roots"] if n["title"] == "Lonely team goal")
    assert lonely["orphan"] and "orphan" in lonely["reasons"]

    bad = _api(api, org, cycle=troubled["cycle"].public_id, detail="everything")
    assert bad.status_code == 400 and "detail" in bad.json()


def test_people_and_teams_list_only_owners_of_visible_nodes(org, member, secret, cascade, api_client_for):
    data = _api(api_client_for(member), org, cycle=cascade["cycle"].public_id).json()
    # The admin owns only the private objective (and its KR): not even their name reaches this member.
    assert str(secret.owner.public_id) not in data["people"]
    assert secret.owner.user.name not in json.dumps(data)
    assert set(data["people"]) == {str(n["owner"]) for n in _walk(data["roots"]) if n["owner"]}
    assert data["teams"] == {str(cascade["team"].public_id): "Growth"}


def test_the_page_renders_a_bounded_first_view_and_loads_the_rest_of_a_level(org, owner, client_for, monkeypatch):
    monkeypatch.setattr(map_page, "PAGE_BUDGET", 3)
    cycle = CycleFactory(organization=org)
    for i in range(5):
        ObjectiveFactory(cycle=cycle, owner=owner, title=f"Company goal {i}", level=L.COMPANY)
    client = client_for(owner)
    body = _page(client, org, cycle=cycle.public_id).content.decode()
    assert "Company goal 2" in body and "Company goal 3" not in body
    assert "2 objectives not shown yet at this level" in body
    assert "5 objectives" in body  # the counts cover the whole map
    assert 'data-testid="warning-unowned"' in _panel(client, org, cycle).content.decode()
    rest = client.get(reverse("okrmap:map", args=[org.slug]), {"cycle": cycle.public_id, "roots_from": 3})
    text = rest.content.decode()
    assert rest.status_code == 200 and "Company goal 3" in text and "Company goal 4" in text
    assert "Company goal 0" not in text


def test_the_page_shows_the_reasons_of_the_rendered_signals(org, owner, troubled, client_for):
    body = _page(client_for(owner), org, cycle=troubled["cycle"].public_id).content.decode()
    assert "4 of 4 initiatives are done" in body  # the watermelon chip's reason
    assert "Looks like a task, not an outcome" in body


# --- Facts judged by PostgreSQL, the page and the API agree ---------------------------------------------------------
def test_codes_judged_by_postgresql_are_the_codes_of_the_reasons_in_words(org, owner, troubled, cascade):
    """Each node's codes (objectives.health_sql's mask, on stored progress and counts) are exactly the signals that
    objectives.health finds with its reasons (detail=signals), and a KR's colour follows health's primary status."""
    InitiativeFactory(key_result=cascade["team_kr"], status=Initiative.Status.DONE)
    for cycle in (troubled["cycle"], cascade["cycle"]):
        detailed = _map(org, owner, cycle, detail=True)
        for node in _walk(detailed["roots"]):
            assert set(node["signals"]) | ({"orphan"} if node["orphan"] else set()) == set(node["reasons"])
            for kr in node["key_results"]:
                assert set(kr["signals"]) == set(kr["reasons"]), kr["title"]
                if kr["status"] == "stale":
                    assert "check-in periods" in kr["status_reason"]
    # Progress is the stored column, which follows objectives.progress.kr_progress.
    nodes = {kr["id"]: kr for kr in _map(org, owner, troubled["cycle"])["roots"][0]["key_results"]}
    for kr in KeyResult.objects.filter(objective__cycle=troubled["cycle"], objective__level=L.COMPANY):
        python = kr_progress(
            kind=kr.kind,
            baseline=kr.baseline,
            target=kr.target,
            current=kr.current,
            band_low=kr.band_low,
            band_high=kr.band_high,
            milestone_steps=kr.milestone_steps,
        ).value
        assert nodes[str(kr.public_id)]["progress"] == pytest.approx(python, abs=1e-4)


def test_initiatives_per_status_and_the_total_leaves_cancelled_ones_out(org, owner):
    cycle = CycleFactory(organization=org)
    company = ObjectiveFactory(cycle=cycle, owner=owner, level=L.COMPANY)
    busy, abandoned = KeyResultFactory(objective=company, position=0), KeyResultFactory(objective=company, position=1)
    wanted = {"not_started": 1, "in_progress": 2, "blocked": 1, "done": 3, "cancelled": 2}
    for status, n in wanted.items():
        for _ in range(n):
            InitiativeFactory(key_result=busy, status=status)
    InitiativeFactory(key_result=abandoned, status=Initiative.Status.CANCELLED)

    result = _map(org, owner, cycle)
    first, second = result["roots"][0]["key_results"]
    assert first["initiatives"] == wanted
    assert second["initiatives"] == {"cancelled": 1}
    assert "no_work" in second["signals"]  # a cancelled initiative is not a bet
    assert result["counts"]["initiatives"] == 7


def _judged_fields(node: dict) -> tuple:
    krs = [
        (kr["id"], kr["status"], tuple(kr["signals"]), kr["progress"], kr["initiatives"], kr["owner"])
        for kr in node["key_results"]
    ]
    fields = ("status", "progress", "signals", "orphan", "aligned_outside", "context", "owner", "team")
    return tuple(node[f] for f in fields), krs


@pytest.mark.parametrize("signal", [None, "watermelon", "unowned", "orphan", "stale", "no_work", "at_risk"])
def test_the_page_and_the_api_agree_on_counts_warnings_and_the_nodes_drawn(org, owner, troubled, cascade, signal):
    InitiativeFactory(key_result=cascade["team_kr"], status=Initiative.Status.DONE)
    for cycle in (troubled["cycle"], cascade["cycle"]):
        api = _map(org, owner, cycle, signal=signal)
        page = map_page.map_page(org=org, membership=owner, cycle=cycle, signal=signal)
        assert page["map"]["counts"] == api["counts"]
        assert page["map"]["warnings"] == api["warnings"]
        assert [n["id"] for n in page["nodes"]] == [n["id"] for n in api["roots"]]
        by_id = {n["id"]: n for n in _walk(api["roots"])}
        drawn = list(_walk(page["nodes"]))
        assert {n["id"] for n in drawn} == set(by_id)  # small maps are drawn whole
        for node in drawn:
            assert _judged_fields(node) == _judged_fields(by_id[node["id"]])


def test_a_group_under_a_private_objectives_kr_is_404_on_the_page(org, member, admin, secret, cascade, client_for):
    private_kr = secret.key_results.get()
    url = reverse("okrmap:map", args=[org.slug])
    params = {"cycle": cascade["cycle"].public_id, "kr": private_kr.public_id}
    assert client_for(member).get(url, params).status_code == 404
    opened = client_for(admin).get(url, params)
    assert opened.status_code == 200 and "Prepare the data room" in opened.content.decode()


def test_a_cycle_without_objectives_and_a_level_read_past_its_end(org, owner, client_for, api_client_for):
    cycle = CycleFactory(organization=org, name="Empty")
    page = _page(client_for(owner), org, cycle=cycle.public_id)
    assert page.status_code == 200 and "No objectives in Empty yet" in page.content.decode()
    data = _api(api_client_for(owner), org, cycle=cycle.public_id).json()
    assert data["roots"] == [] and data["counts"] == {"objectives": 0, "key_results": 0, "initiatives": 0, "shown": 0}
    ObjectiveFactory(cycle=cycle, owner=owner, level=L.COMPANY, title="Only one")
    past = _page(client_for(owner), org, cycle=cycle.public_id, roots_from=5)
    assert past.status_code == 200 and "not shown yet" not in past.content.decode()
