"""Search on the cycle board and in the API lists: titles, descriptions and KR titles match in any case; a search
never reaches a private objective or its KRs; it costs the same queries on a big cycle as on a small one."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from objectives import board, selectors
from objectives.forms import SEARCH_MAX_LENGTH
from objectives.models import Objective
from tests.factories import TeamFactory
from tests.factories_okr import CycleFactory, KeyResultFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def searchable(cycle, admin, member):
    by_title = ObjectiveFactory(cycle=cycle, owner=member, title="Make ONBOARDING effortless")
    by_description = ObjectiveFactory(cycle=cycle, owner=member, title="Grow", description="new onboarding flow")
    by_kr = ObjectiveFactory(cycle=cycle, owner=member, title="Keep customers")
    KeyResultFactory(objective=by_kr, owner=member, title="Onboarding NPS from 30 to 50")
    ObjectiveFactory(cycle=cycle, owner=member, title="Unrelated reliability work")
    secret = ObjectiveFactory(cycle=cycle, owner=admin, title="Secret onboarding reorg", visibility="private")
    KeyResultFactory(objective=secret, owner=admin, title="Private onboarding metric")
    return {"by_title": by_title, "by_description": by_description, "by_kr": by_kr, "secret": secret}


def _titles(judged):
    return {o.title for o in Objective.objects.filter(pk__in=[o["pk"] for o in judged.objectives])}


def test_the_judge_matches_title_description_and_kr_titles_in_any_case(searchable, cycle, member, admin):
    org = cycle.organization
    found = _titles(board.judge(org, member, cycle=cycle, filters=board.BoardFilters(q="onboarding")))
    assert found == {"Make ONBOARDING effortless", "Grow", "Keep customers"}
    # The owner of the private objective finds it; the member above did not.
    assert "Secret onboarding reorg" in _titles(
        board.judge(org, admin, cycle=cycle, filters=board.BoardFilters(q="ONBOARDING"))
    )
    assert _titles(board.judge(org, member, cycle=cycle, filters=board.BoardFilters(q="no such words"))) == set()


def test_a_search_keeps_the_focus_counts_of_the_whole_cycle(cycle, member):
    """Too many objectives for one owner is judged on all of them, not on the ones a search happened to match."""
    for i in range(6):
        ObjectiveFactory(cycle=cycle, owner=member, title=f"Goal {i}", status="active")
    judged = board.judge(cycle.organization, member, cycle=cycle, filters=board.BoardFilters(q="Goal 3"))
    assert [o["codes"] for o in judged.objectives] and "focus" in judged.objectives[0]["codes"]


def test_the_cycle_page_searches_as_you_type_and_keeps_the_search_in_group_links(client_for, member, cycle, searchable):
    team = TeamFactory(organization=cycle.organization, name="Growth")
    ObjectiveFactory(cycle=cycle, owner=member, level="team", team=team, title="Team onboarding push")
    ObjectiveFactory(cycle=cycle, owner=member, level="team", team=team, title="Team hiring")
    for i in range(board.FIRST_PAGE):  # enough company matches that the team group opens collapsed
        ObjectiveFactory(cycle=cycle, owner=member, title=f"Onboarding step {i}")
    client = client_for(member)
    path = reverse("objectives:cycle_detail", args=[cycle.organization.slug, cycle.public_id])
    page = client.get(path).content.decode()
    assert 'name="q"' in page and "input changed delay:300ms" in page
    fragment = client.get(path, {"q": "onboarding"}, HTTP_HX_TARGET="board", **HX).content.decode()
    assert "<html" not in fragment
    assert "Make ONBOARDING effortless" in fragment and "Keep customers" in fragment
    assert "Unrelated reliability work" not in fragment and "Secret onboarding reorg" not in fragment
    assert "Team onboarding push" not in fragment  # collapsed: loads on opening, searching the same way
    assert f"group=team%3A{team.public_id}" in fragment and "q=onboarding" in fragment
    group = reverse("objectives:cycle_board_group", args=[cycle.organization.slug, cycle.public_id])
    rows = client.get(group, {"group": f"team:{team.public_id}", "q": "onboarding"}, **HX).content.decode()
    assert "Team onboarding push" in rows and "Team hiring" not in rows
    nothing = client.get(path, {"q": "zzz"}).content.decode()
    assert "Nothing matches these filters" in nothing and 'value="zzz"' in nothing


def test_an_overlong_search_is_ignored_on_the_page(client_for, member, cycle, searchable):
    path = reverse("objectives:cycle_detail", args=[cycle.organization.slug, cycle.public_id])
    response = client_for(member).get(path, {"q": "x" * (SEARCH_MAX_LENGTH + 1)})
    assert response.status_code == 200
    assert b"Make ONBOARDING effortless" in response.content  # an invalid filter is dropped, like the others


def test_a_search_costs_the_same_queries_on_a_big_cycle(client_for, admin, cycle):
    client = client_for(admin)
    path = reverse("objectives:cycle_detail", args=[cycle.organization.slug, cycle.public_id])
    ObjectiveFactory(cycle=cycle, owner=admin, title="Needle")
    client.get(path, {"q": "needle"})  # warm up session and caches

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path, {"q": "needle"}).status_code == 200
        return len(ctx.captured_queries)

    small = count()
    for i in range(60):
        KeyResultFactory(objective=ObjectiveFactory(cycle=cycle, owner=admin, title=f"Needle {i}"), owner=admin)
    assert count() == small


# --- API ------------------------------------------------------------------------------------------------------------
def _api(org, path):
    return f"/api/v1/o/{org.slug}/{path}"


def test_the_api_lists_search_objectives_and_key_results(api_client_for, member, cycle, searchable):
    org = cycle.organization
    api = api_client_for(member)
    got = api.get(_api(org, "objectives"), {"q": "Onboarding", "cycle": str(cycle.public_id)}).json()["results"]
    assert {o["title"] for o in got} == {"Make ONBOARDING effortless", "Grow", "Keep customers"}
    got = api.get(_api(org, "key-results"), {"q": "onboarding"}).json()["results"]
    assert [kr["title"] for kr in got] == ["Onboarding NPS from 30 to 50"]  # never the private objective's KR
    # Search and signal together go through the board's judge.
    got = api.get(_api(org, "objectives"), {"q": "onboarding", "signal": "no_work"}).json()["results"]
    assert got and all(
        "onboarding" in (o["title"] + o["description"]).lower() or o["title"] == "Keep customers" for o in got
    )


def test_an_overlong_api_search_is_a_400_naming_q(api_client_for, member, cycle):
    response = api_client_for(member).get(_api(cycle.organization, "objectives"), {"q": "x" * 101})
    assert response.status_code == 400
    assert "q" in response.json()


def test_key_results_matching_is_scoped_to_the_queryset_it_gets(member, admin, cycle, outsider):
    other = ObjectiveFactory(cycle=CycleFactory(organization=outsider.organization), owner=outsider)
    KeyResultFactory(objective=other, owner=outsider, title="Onboarding elsewhere")
    qs = selectors.visible_key_results(cycle.organization, member)
    assert not selectors.key_results_matching(qs, "elsewhere").exists()
