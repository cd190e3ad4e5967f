"""OKR pages: cycles, the cycle board, objectives, key results, team view, dashboard (issue 3 §3).

Every page: happy path, validation error, insufficient role (403), other organization (404), and a query count that
does not grow with the data (the same number of queries with 10 and with 1,000 objects).
"""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from checkins.models import CheckIn
from initiatives.models import Initiative
from objectives.models import Contribution, Cycle, KeyResult, Objective, Revision
from tests.factories import MembershipFactory, TeamFactory
from tests.factories_okr import CycleFactory, InitiativeFactory, KeyResultFactory, ObjectiveFactory

HX = {"HTTP_HX_REQUEST": "true"}


def url(name, org, *args):
    return reverse(name, args=[org.slug, *args])


@pytest.fixture
def objective(cycle, admin):
    return ObjectiveFactory(cycle=cycle, owner=admin, title="Make onboarding effortless")


@pytest.fixture
def kr(objective, member):
    return KeyResultFactory(objective=objective, owner=member, title="Increase activation from 30 to 50")


@pytest.fixture
def foreign(outsider):
    """An objective with a KR and an initiative in the other organization."""
    objective = ObjectiveFactory(cycle=CycleFactory(organization=outsider.organization), owner=outsider)
    key_result = KeyResultFactory(objective=objective, owner=outsider)
    return {"objective": objective, "kr": key_result, "initiative": InitiativeFactory(key_result=key_result)}


def _queries(client, path, **headers) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, **headers)
    assert response.status_code == 200, response.content[:500]
    return len(ctx.captured_queries)


def _bulk_objectives(cycle, owner, n, team=None):
    """n objectives, each with 1 KR and 1 initiative, written in bulk (fast enough for 1,000)."""
    org = cycle.organization
    objectives = Objective.objects.bulk_create(
        Objective(
            organization=org,
            cycle=cycle,
            title=f"Bulk objective {i}",
            owner=owner,
            team=team,
            level=Objective.Level.TEAM if team else Objective.Level.COMPANY,
            status=Objective.Status.ACTIVE,
        )
        for i in range(n)
    )
    krs = KeyResult.objects.bulk_create(
        KeyResult(
            organization=org,
            objective=o,
            title=f"Raise metric {o.title}",
            owner=owner,
            target=100,
            current=10,
            status=KeyResult.Status.ACTIVE,
        )
        for o in objectives
    )
    Initiative.objects.bulk_create(
        Initiative(organization=org, key_result=k, title=f"Bet {k.pk}", owner=owner) for k in krs
    )
    return objectives, krs


# --- Navigation and dashboard -------------------------------------------------------------------------------------
def test_okrs_link_redirects_to_the_current_cycle(client_for, viewer, cycle):
    response = client_for(viewer).get(url("objectives:okrs_home", viewer.organization))
    assert response.status_code == 302
    assert response["Location"] == url("objectives:cycle_detail", viewer.organization, cycle.public_id)


def test_okrs_link_without_cycles_goes_to_the_cycle_list(client_for, viewer):
    response = client_for(viewer).get(url("objectives:okrs_home", viewer.organization))
    assert response["Location"] == url("objectives:cycle_list", viewer.organization)


def test_dashboard_shows_the_current_cycle_summary_once_okrs_exist(client_for, member, objective, kr):
    response = client_for(member).get(reverse("accounts:dashboard", args=[member.organization.slug]))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="okr-summary"' in body
    assert "Make onboarding effortless" in body
    assert "Get started" not in body
    # The tiles count objectives (with such key results), worded as the cycle board words them; 1 is singular.
    assert "objective · 1 key result<" in body and "with off-track results" in body and ">off track<" not in body


def test_dashboard_shows_getting_started_without_okrs(client_for, member, cycle):
    response = client_for(member).get(reverse("accounts:dashboard", args=[member.organization.slug]))
    assert b"Get started" in response.content


# --- Cycle list and management ------------------------------------------------------------------------------------
def test_cycle_list_shows_cycles_with_visible_objective_counts(client_for, viewer, cycle, objective, admin):
    ObjectiveFactory(cycle=cycle, owner=admin, visibility=Objective.Visibility.PRIVATE, title="Secret plan")
    response = client_for(viewer).get(url("objectives:cycle_list", viewer.organization))
    assert response.status_code == 200
    assert cycle.name in response.content.decode()
    assert response.context["cycles"][0].objective_count == 1  # the private one is not counted for a viewer
    assert b"Manage cycles" not in response.content


def test_cycle_list_of_other_org_is_404(client_for, member, other_org):
    assert client_for(member).get(url("objectives:cycle_list", other_org)).status_code == 404


def test_admin_creates_a_quarter_inside_a_year(client_for, admin):
    org = admin.organization
    year = CycleFactory(
        organization=org,
        name="FY 2026",
        kind=Cycle.Kind.YEAR,
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 12, 31),
    )
    data = {
        "name": "Q3 2026",
        "kind": "quarter",
        "start_date": "2026-07-01",
        "end_date": "2026-09-30",
        "parent": year.pk,
    }
    response = client_for(admin).post(url("objectives:cycle_manage", org), data)
    assert response.status_code == 302
    quarter = Cycle.objects.get(organization=org, name="Q3 2026")
    assert quarter.parent == year and quarter.status == Cycle.Status.PLANNING


def test_cycle_create_validation_errors_are_inline(client_for, admin):
    org = admin.organization
    year = CycleFactory(
        organization=org,
        name="FY 2026",
        kind=Cycle.Kind.YEAR,
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 12, 31),
    )
    bad_dates = {"name": "Q9", "kind": "quarter", "start_date": "2026-07-01", "end_date": "2026-06-01"}
    response = client_for(admin).post(url("objectives:cycle_manage", org), bad_dates)
    assert response.status_code == 422
    assert "The cycle must end after it starts." in response.content.decode()
    outside = {
        "name": "Q1 2027",
        "kind": "quarter",
        "start_date": "2027-01-01",
        "end_date": "2027-03-31",
        "parent": year.pk,
    }
    response = client_for(admin).post(url("objectives:cycle_manage", org), outside)
    assert response.status_code == 422
    assert "must lie inside FY 2026" in response.content.decode()
    assert not Cycle.objects.filter(organization=org, name__in=["Q9", "Q1 2027"]).exists()


def test_cycle_parent_from_other_org_is_not_a_valid_choice(client_for, admin, outsider):
    foreign_year = CycleFactory(organization=outsider.organization, kind=Cycle.Kind.YEAR)
    data = {
        "name": "Q3",
        "kind": "quarter",
        "start_date": "2026-07-01",
        "end_date": "2026-09-30",
        "parent": foreign_year.pk,
    }
    response = client_for(admin).post(url("objectives:cycle_manage", admin.organization), data)
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()


def test_members_cannot_manage_cycles(client_for, member, cycle):
    client = client_for(member)
    org = member.organization
    assert client.get(url("objectives:cycle_manage", org)).status_code == 403
    assert client.post(url("objectives:cycle_activate", org, cycle.public_id)).status_code == 403
    assert client.get(url("objectives:cycle_edit", org, cycle.public_id)).status_code == 403


def test_cycle_manage_of_other_org_is_404(client_for, outsider, org):
    assert client_for(outsider).get(url("objectives:cycle_manage", org)).status_code == 404


def test_activating_a_cycle_closes_the_previous_one_of_its_kind(client_for, admin, cycle):
    org = admin.organization
    next_q = CycleFactory(organization=org, name="Next quarter", status=Cycle.Status.PLANNING)
    response = client_for(admin).post(url("objectives:cycle_activate", org, next_q.public_id))
    assert response.status_code == 302
    next_q.refresh_from_db()
    cycle.refresh_from_db()
    assert next_q.status == Cycle.Status.ACTIVE and cycle.status == Cycle.Status.CLOSED


def test_activating_or_editing_another_orgs_cycle_is_404(client_for, admin, outsider):
    foreign_cycle = CycleFactory(organization=outsider.organization, status=Cycle.Status.PLANNING)
    client = client_for(admin)
    assert client.post(url("objectives:cycle_activate", admin.organization, foreign_cycle.public_id)).status_code == 404
    assert client.get(url("objectives:cycle_edit", admin.organization, foreign_cycle.public_id)).status_code == 404
    foreign_cycle.refresh_from_db()
    assert foreign_cycle.status == Cycle.Status.PLANNING


def test_cycle_edit_saves_and_validates(client_for, admin, cycle):
    org = admin.organization
    data = {"name": "Renamed", "kind": "quarter", "start_date": cycle.start_date, "end_date": cycle.end_date}
    assert client_for(admin).post(url("objectives:cycle_edit", org, cycle.public_id), data).status_code == 302
    cycle.refresh_from_db()
    assert cycle.name == "Renamed"
    data["name"] = ""
    assert client_for(admin).post(url("objectives:cycle_edit", org, cycle.public_id), data).status_code == 422


# --- Cycle board --------------------------------------------------------------------------------------------------
def test_cycle_board_groups_objectives_with_progress_owner_and_signals(client_for, viewer, cycle, admin, member):
    team = TeamFactory(organization=cycle.organization, name="Growth")
    company = ObjectiveFactory(cycle=cycle, owner=admin, title="Company goal")
    KeyResultFactory(
        objective=company, owner=member, title="Launch the new pricing page", kind="milestone", current=0, target=1
    )
    ObjectiveFactory(cycle=cycle, owner=member, title="Team goal", level=Objective.Level.TEAM, team=team)
    response = client_for(viewer).get(url("objectives:cycle_detail", cycle.organization, cycle.public_id))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index("Company goal") < body.index("Team goal")
    assert "Growth" in body
    assert 'data-signal="task_in_disguise"' in body
    assert "Looks like a task" in body  # the reason travels with the chip
    assert 'role="progressbar"' in body
    assert admin.user.initials in body
    assert b"+ New objective" not in response.content  # viewers read only


def test_cycle_board_filters_by_signal_team_owner_and_status_as_an_htmx_fragment(client_for, member, cycle, admin):
    team = TeamFactory(organization=cycle.organization, name="Platform")
    bad = ObjectiveFactory(cycle=cycle, owner=admin, title="Has a task KR")
    KeyResultFactory(objective=bad, owner=admin, title="Ship the thing", kind="milestone")
    ObjectiveFactory(cycle=cycle, owner=member, title="Fine objective", level="team", team=team)
    client = client_for(member)
    path = url("objectives:cycle_detail", cycle.organization, cycle.public_id)
    response = client.get(path, {"signal": "task_in_disguise"}, HTTP_HX_TARGET="board", **HX)
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b"Has a task KR" in response.content and b"Fine objective" not in response.content
    response = client.get(path, {"team": str(team.public_id)})
    assert b"Fine objective" in response.content and b"Has a task KR" not in response.content
    response = client.get(path, {"owner": str(admin.public_id)})
    assert b"Has a task KR" in response.content and b"Fine objective" not in response.content
    response = client.get(path, {"status": "draft"})
    assert b"Nothing matches these filters" in response.content


def test_cycle_board_ignores_unknown_filter_values(client_for, member, cycle, objective):
    path = url("objectives:cycle_detail", cycle.organization, cycle.public_id)
    response = client_for(member).get(path, {"team": "not-a-uuid", "status": "bogus", "signal": "nope"})
    assert response.status_code == 200
    assert b"Make onboarding effortless" in response.content


def test_cycle_board_hides_private_objectives_of_others(client_for, member, cycle, admin):
    ObjectiveFactory(cycle=cycle, owner=admin, title="Secret reorg", visibility=Objective.Visibility.PRIVATE)
    response = client_for(member).get(url("objectives:cycle_detail", cycle.organization, cycle.public_id))
    assert b"Secret reorg" not in response.content


def test_cycle_board_of_another_orgs_cycle_is_404(client_for, member, foreign):
    cycle = foreign["objective"].cycle
    assert (
        client_for(member).get(url("objectives:cycle_detail", member.organization, cycle.public_id)).status_code == 404
    )


def test_cycle_board_query_count_does_not_grow_with_objectives(client_for, admin, cycle):
    client = client_for(admin)
    path = url("objectives:cycle_detail", cycle.organization, cycle.public_id)
    _bulk_objectives(cycle, admin, 10)
    client.get(path)  # warm up session and caches
    small = _queries(client, path)
    _bulk_objectives(cycle, admin, 990)
    assert _queries(client, path) == small


# --- Objective create / detail / edit / publish -------------------------------------------------------------------
def test_member_creates_an_objective_inline(client_for, member, cycle):
    client = client_for(member)
    path = url("objectives:objective_create", cycle.organization, cycle.public_id)
    form = client.get(path, **HX)
    assert form.status_code == 200 and b'data-testid="objective-form"' in form.content
    response = client.post(
        path,
        {"title": "Win the mid-market", "level": "company", "visibility": "organization", "owner": member.pk},
        **HX,
    )
    assert response.status_code == 204
    objective = Objective.objects.get(organization=cycle.organization, title="Win the mid-market")
    assert response["HX-Redirect"] == url("objectives:objective_detail", cycle.organization, objective.public_id)
    assert objective.owner == member and objective.status == Objective.Status.DRAFT


def test_objective_create_validation_error_returns_422_fragment(client_for, member, cycle):
    path = url("objectives:objective_create", cycle.organization, cycle.public_id)
    response = client_for(member).post(path, {"title": "", "level": "team", "visibility": "organization"}, **HX)
    assert response.status_code == 422
    body = response.content.decode()
    assert "<html" not in body
    assert "This field is required." in body and "A team objective needs a team." in body


def test_member_cannot_make_someone_else_the_owner(client_for, member, admin, cycle):
    path = url("objectives:objective_create", cycle.organization, cycle.public_id)
    response = client_for(member).post(
        path, {"title": "X", "level": "company", "visibility": "organization", "owner": admin.pk}, **HX
    )
    assert response.status_code == 422
    assert not Objective.objects.filter(title="X").exists()


def test_objective_create_in_a_closed_cycle_is_refused_inline(client_for, admin, cycle):
    cycle.status = Cycle.Status.CLOSED
    cycle.save()
    path = url("objectives:objective_create", cycle.organization, cycle.public_id)
    response = client_for(admin).post(path, {"title": "Late", "level": "company", "visibility": "organization"}, **HX)
    assert response.status_code == 422
    assert "is closed" in response.content.decode()


def test_viewer_cannot_create_objectives(client_for, viewer, cycle):
    path = url("objectives:objective_create", cycle.organization, cycle.public_id)
    assert client_for(viewer).post(path, {"title": "Nope", "level": "company"}).status_code == 403


def test_objective_create_in_another_orgs_cycle_is_404(client_for, member, foreign):
    path = url("objectives:objective_create", member.organization, foreign["objective"].cycle.public_id)
    assert client_for(member).post(path, {"title": "Nope", "level": "company"}).status_code == 404


def test_objective_page_shows_krs_initiatives_alignment_and_blockers(client_for, admin, member, cycle):
    parent = ObjectiveFactory(cycle=cycle, owner=admin, title="Company goal")
    parent_kr = KeyResultFactory(objective=parent, owner=admin, title="Grow revenue from 1 to 2")
    objective = ObjectiveFactory(
        cycle=cycle, owner=member, title="Team goal", status=Objective.Status.DRAFT, parent_key_result=parent_kr
    )
    kr = KeyResultFactory(
        objective=objective,
        owner=None,
        title="Cut churn from 5 to 3",
        kind="decrease",
        baseline=5,
        target=3,
        current=4,
        unit="percent",
        confidence=6,
    )
    InitiativeFactory(key_result=kr, title="Exit interviews", status=Initiative.Status.BLOCKED, progress=20)
    child = ObjectiveFactory(
        cycle=cycle, owner=member, title="Personal goal", parent_objective=objective, level=Objective.Level.PERSONAL
    )
    Contribution.objects.create(organization=cycle.organization, objective=child, key_result=kr, weight=2)
    response = client_for(admin).get(url("objectives:objective_detail", cycle.organization, objective.public_id))
    assert response.status_code == 200
    body = response.content.decode()
    for text in (
        "Cut churn from 5 to 3",
        "4%",
        "→ 3%",
        "Exit interviews",
        "Blocked",
        "Grow revenue from 1 to 2",
        "Personal goal",
        "KR &#x27;Cut churn from 5 to 3&#x27; has no owner.",
        'data-testid="publish"',
    ):
        assert text in body, text


def test_private_objective_is_404_for_other_members(client_for, member, admin, cycle):
    secret = ObjectiveFactory(cycle=cycle, owner=admin, visibility=Objective.Visibility.PRIVATE)
    path = url("objectives:objective_detail", cycle.organization, secret.public_id)
    assert client_for(member).get(path).status_code == 404


def test_objective_of_other_org_is_404(client_for, member, foreign):
    objective_id = foreign["objective"].public_id
    client = client_for(member)
    org = member.organization
    assert client.get(url("objectives:objective_detail", org, objective_id)).status_code == 404
    assert client.post(url("objectives:objective_publish", org, objective_id)).status_code == 404
    assert client.get(url("objectives:objective_edit", org, objective_id), **HX).status_code == 404
    assert client.post(url("objectives:objective_delete", org, objective_id)).status_code == 404


def test_objective_page_query_count_does_not_grow(client_for, admin, cycle, objective):
    client = client_for(admin)
    path = url("objectives:objective_detail", cycle.organization, objective.public_id)
    krs = KeyResult.objects.bulk_create(
        KeyResult(
            organization=cycle.organization,
            objective=objective,
            title=f"KR {i}",
            owner=admin,
            target=10,
            status="active",
        )
        for i in range(2)
    )
    Initiative.objects.bulk_create(
        Initiative(organization=cycle.organization, key_result=krs[i % 2], title=f"I{i}") for i in range(8)
    )

    def add_children(n):
        children = Objective.objects.bulk_create(
            Objective(organization=cycle.organization, cycle=cycle, title=f"Child {i}", parent_objective=objective)
            for i in range(n)
        )
        KeyResult.objects.bulk_create(
            KeyResult(organization=cycle.organization, objective=c, title=f"Child KR {c.pk}", target=5)
            for c in children
        )

    add_children(2)
    client.get(path)
    small = _queries(client, path)
    Initiative.objects.bulk_create(
        Initiative(organization=cycle.organization, key_result=krs[i % 2], title=f"J{i}") for i in range(500)
    )
    add_children(300)
    assert _queries(client, path) == small


def test_owner_edits_the_objective_in_place(client_for, admin, objective):
    client = client_for(admin)
    path = url("objectives:objective_edit", objective.organization, objective.public_id)
    form = client.get(path, **HX)
    assert form.status_code == 200 and b'id="objective-header"' in form.content
    data = {"title": "Make onboarding delightful", "level": "company", "visibility": "organization", "owner": admin.pk}
    response = client.post(path, data, **HX)
    assert response.status_code == 200
    assert b"Make onboarding delightful" in response.content and b'data-testid="objective-header"' in response.content
    objective.refresh_from_db()
    assert objective.title == "Make onboarding delightful"


def test_objective_edit_validation_error_is_422(client_for, admin, objective):
    path = url("objectives:objective_edit", objective.organization, objective.public_id)
    response = client_for(admin).post(path, {"title": "X", "level": "team", "visibility": "team"}, **HX)
    assert response.status_code == 422
    assert "A team objective needs a team." in response.content.decode()


def test_member_cannot_edit_someone_elses_objective(client_for, member, objective):
    path = url("objectives:objective_edit", objective.organization, objective.public_id)
    assert client_for(member).get(path, **HX).status_code == 403
    assert client_for(member).post(path, {"title": "Hijack", "level": "company"}, **HX).status_code == 403


def test_publish_is_blocked_with_the_reasons_listed(client_for, admin, cycle):
    objective = ObjectiveFactory(cycle=cycle, owner=admin, status=Objective.Status.DRAFT, title="Draft goal")
    KeyResultFactory(objective=objective, owner=None, title="Reduce churn")
    response = client_for(admin).post(
        url("objectives:objective_publish", cycle.organization, objective.public_id), **HX
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert 'data-testid="publish-blockers"' in body
    assert "KR &#x27;Reduce churn&#x27; has no owner." in body
    objective.refresh_from_db()
    assert objective.status == Objective.Status.DRAFT


def test_publish_without_htmx_renders_the_page_with_blockers(client_for, admin, cycle):
    objective = ObjectiveFactory(cycle=cycle, owner=admin, status=Objective.Status.DRAFT)
    response = client_for(admin).post(url("objectives:objective_publish", cycle.organization, objective.public_id))
    assert response.status_code == 422
    assert "Add at least one key result." in response.content.decode()
    assert b"<html" in response.content


def test_publish_makes_objective_and_krs_live(client_for, admin, member, cycle):
    objective = ObjectiveFactory(cycle=cycle, owner=admin, status=Objective.Status.DRAFT)
    kr = KeyResultFactory(objective=objective, owner=member, status=KeyResult.Status.DRAFT)
    response = client_for(admin).post(
        url("objectives:objective_publish", cycle.organization, objective.public_id), **HX
    )
    assert response.status_code == 204
    assert response["HX-Redirect"].endswith(f"/objectives/{objective.public_id}/")
    objective.refresh_from_db()
    kr.refresh_from_db()
    assert objective.status == Objective.Status.ACTIVE and kr.status == KeyResult.Status.ACTIVE


def test_viewer_cannot_publish(client_for, viewer, objective):
    path = url("objectives:objective_publish", objective.organization, objective.public_id)
    assert client_for(viewer).post(path).status_code == 403


def test_archive_and_delete(client_for, admin, objective, kr):
    client = client_for(admin)
    org = objective.organization
    assert client.post(url("objectives:objective_archive", org, objective.public_id)).status_code == 302
    objective.refresh_from_db()
    assert objective.status == Objective.Status.ARCHIVED
    response = client.post(url("objectives:objective_delete", org, objective.public_id))
    assert response.status_code == 302
    assert not Objective.objects.filter(pk=objective.pk).exists()


def test_member_cannot_delete_someone_elses_objective(client_for, member, objective):
    path = url("objectives:objective_delete", objective.organization, objective.public_id)
    assert client_for(member).post(path).status_code == 403
    assert Objective.objects.filter(pk=objective.pk).exists()


# --- Alignment ----------------------------------------------------------------------------------------------------
def test_align_to_a_parent_kr_and_refuse_a_loop(client_for, admin, cycle):
    company = ObjectiveFactory(cycle=cycle, owner=admin, title="Company")
    company_kr = KeyResultFactory(objective=company, owner=admin, title="Company KR")
    team = ObjectiveFactory(cycle=cycle, owner=admin, title="Team", level="company")
    client = client_for(admin)
    org = cycle.organization
    response = client.post(
        url("objectives:objective_align", org, team.public_id), {"parent": f"k:{company_kr.public_id}"}, **HX
    )
    assert response.status_code == 200
    team.refresh_from_db()
    assert team.parent_key_result == company_kr
    assert b"Company KR" in response.content
    # Company → Team would close the loop Team → Company KR → Company.
    response = client.post(
        url("objectives:objective_align", org, company.public_id), {"parent": f"o:{team.public_id}"}, **HX
    )
    assert response.status_code == 422
    assert "loop" in response.content.decode()
    company.refresh_from_db()
    assert company.parent_objective is None


def test_align_to_an_unknown_parent_is_a_form_error(client_for, admin, objective, foreign):
    path = url("objectives:objective_align", objective.organization, objective.public_id)
    response = client_for(admin).post(path, {"parent": f"o:{foreign['objective'].public_id}"}, **HX)
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()


def test_contribution_add_and_remove(client_for, admin, cycle, objective):
    other = ObjectiveFactory(cycle=cycle, owner=admin, title="Other")
    other_kr = KeyResultFactory(objective=other, owner=admin, title="Other KR")
    client = client_for(admin)
    org = cycle.organization
    response = client.post(
        url("objectives:contribution_add", org, objective.public_id),
        {"key_result": str(other_kr.public_id), "weight": "0.5"},
        **HX,
    )
    assert response.status_code == 200
    contribution = Contribution.objects.get(objective=objective, key_result=other_kr)
    assert b"Other KR" in response.content
    response = client.post(
        url("objectives:contribution_add", org, objective.public_id),
        {"key_result": str(other_kr.public_id), "weight": "1"},
        **HX,
    )
    assert response.status_code == 422
    assert "already contributes" in response.content.decode()
    response = client.post(
        url("objectives:contribution_remove", org, objective.public_id, contribution.public_id), **HX
    )
    assert response.status_code == 200
    assert not Contribution.objects.filter(pk=contribution.pk).exists()


def test_member_cannot_change_alignment_of_someone_elses_objective(client_for, member, objective):
    path = url("objectives:objective_align", objective.organization, objective.public_id)
    assert client_for(member).post(path, {"parent": ""}).status_code == 403


# --- Key results --------------------------------------------------------------------------------------------------
def test_add_kinds_of_key_results(client_for, admin, member, objective):
    client = client_for(admin)
    path = url("objectives:kr_create", objective.organization, objective.public_id)
    assert b"data-kr-form" in client.get(path, **HX).content
    base = {"unit": "number", "decimals": 0, "weight": 1, "owner": member.pk}
    response = client.post(
        path, {**base, "title": "Increase NPS from 30 to 45", "kind": "increase", "baseline": 30, "target": 45}, **HX
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#kr-section"
    assert b"Increase NPS from 30 to 45" in response.content
    client.post(
        path,
        {
            **base,
            "title": "Keep uptime above 99.9",
            "kind": "maintain",
            "band_low": "99.9",
            "baseline": "99.95",
            "unit": "percent",
        },
        **HX,
    )
    client.post(
        path,
        {
            **base,
            "title": "Onboarding v2",
            "kind": "milestone",
            "unit": "none",
            "milestone_steps": "Design\nBeta\n\nGA",
        },
        **HX,
    )
    krs = {k.title: k for k in KeyResult.objects.filter(objective=objective)}
    assert krs["Increase NPS from 30 to 45"].target == 45
    assert krs["Keep uptime above 99.9"].band_low == Decimal("99.9") and krs["Keep uptime above 99.9"].band_high is None
    assert krs["Onboarding v2"].milestone_steps == ["Design", "Beta", "GA"]
    assert krs["Onboarding v2"].target == 3


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"kind": "increase", "baseline": 10}, "Required for this kind of key result."),
        ({"kind": "increase", "baseline": 10, "target": 5}, "the target must be above the baseline"),
        ({"kind": "maintain"}, "Give a low bound, a high bound or both."),
        ({"kind": "maintain", "band_low": 5, "band_high": 1}, "must not be below the low bound"),
        ({"kind": "increase", "baseline": 1, "target": 2, "unit": "custom"}, "Name the currency or the unit."),
        ({"kind": "increase", "baseline": 1, "target": "lots"}, "Enter a number."),
    ],
)
def test_kr_create_validation_errors_are_inline(client_for, admin, objective, data, error):
    path = url("objectives:kr_create", objective.organization, objective.public_id)
    payload = {"title": "Some KR", "unit": "number", "decimals": 0, "weight": 1, **data}
    response = client_for(admin).post(path, payload, **HX)
    assert response.status_code == 422
    assert error in response.content.decode()
    assert not KeyResult.objects.filter(objective=objective).exists()


def test_member_who_does_not_own_the_objective_cannot_add_krs(client_for, member, objective):
    path = url("objectives:kr_create", objective.organization, objective.public_id)
    response = client_for(member).post(path, {"title": "X", "kind": "increase", "baseline": 0, "target": 1})
    assert response.status_code == 403


def test_kr_create_on_other_org_objective_is_404(client_for, admin, foreign):
    path = url("objectives:kr_create", admin.organization, foreign["objective"].public_id)
    assert client_for(admin).get(path, **HX).status_code == 404


def test_kr_owner_edits_in_place_and_a_live_change_needs_a_rationale(client_for, member, kr):
    client = client_for(member)
    org = kr.organization
    path = url("objectives:kr_edit", org, kr.public_id)
    form = client.get(path, **HX)
    assert b"rationale" in form.content  # live KR: the form asks for one
    data = {
        "title": kr.title,
        "kind": "increase",
        "unit": "number",
        "decimals": 0,
        "weight": 1,
        "baseline": 0,
        "target": 120,
        "owner": member.pk,
    }
    response = client.post(path, data, **HX)
    assert response.status_code == 422
    assert "Explain why target of a live key result changes" in response.content.decode()
    kr.refresh_from_db()
    assert kr.target == 100
    response = client.post(path, {**data, "rationale": "Pricing launch doubled the market."}, **HX)
    assert response.status_code == 200
    assert f'id="kr-{kr.public_id}"'.encode() in response.content
    assert b'hx-swap-oob="true"' in response.content  # header and publish panel refreshed too
    revision = Revision.objects.get(key_result=kr)
    assert revision.changes["target"] == ["100", "120"] and revision.author == member
    page = client.get(url("objectives:kr_detail", org, kr.public_id))
    assert b"Pricing launch doubled the market." in page.content


FIELDS = {"baseline", "target", "band_low", "band_high", "weight"}


def test_kr_edit_form_shows_round_numbers_as_typed_never_in_exponent_notation(client_for, admin, objective):
    kr = KeyResultFactory(
        objective=objective, owner=admin, kind=KeyResult.Kind.MAINTAIN, baseline=1200000, target=3000000
    )
    KeyResult.objects.filter(pk=kr.pk).update(band_low=100, band_high=300, weight=Decimal("2.50"))
    html = client_for(admin).get(url("objectives:kr_edit", objective.organization, kr.public_id), **HX).content
    shown = {
        name: re.search(rb'value="([^"]*)"', tag).group(1).decode()
        for tag in re.findall(rb"<input[^>]*>", html)
        if (name := (re.search(rb'name="([^"]+)"', tag) or [b"", b""])[1].decode()) in FIELDS
    }
    assert shown == {"baseline": "1200000", "target": "3000000", "band_low": "100", "band_high": "300", "weight": "2.5"}


def test_editing_a_draft_kr_needs_no_rationale(client_for, admin, objective):
    kr = KeyResultFactory(objective=objective, owner=None, status=KeyResult.Status.DRAFT, title="Draft KR")
    path = url("objectives:kr_edit", objective.organization, kr.public_id)
    data = {
        "title": "Draft KR",
        "kind": "increase",
        "unit": "number",
        "decimals": 0,
        "weight": 1,
        "baseline": 0,
        "target": 200,
        "owner": admin.pk,
    }
    assert b"rationale" not in client_for(admin).get(path, **HX).content
    assert client_for(admin).post(path, data, **HX).status_code == 200
    kr.refresh_from_db()
    assert kr.target == 200 and kr.owner == admin and not Revision.objects.filter(key_result=kr).exists()


def test_kr_edit_from_the_kr_page_redirects_back(client_for, member, kr):
    path = url("objectives:kr_edit", kr.organization, kr.public_id)
    data = {
        "title": "Renamed KR",
        "kind": "increase",
        "unit": "number",
        "decimals": 0,
        "weight": 1,
        "baseline": 0,
        "target": 100,
        "owner": member.pk,
        "origin": "kr",
    }
    response = client_for(member).post(path, data, **HX)
    assert response.status_code == 204
    assert response["HX-Redirect"] == url("objectives:kr_detail", kr.organization, kr.public_id)


def test_unrelated_member_cannot_edit_a_kr(client_for, org, kr):
    stranger = MembershipFactory(organization=org, role=Role.MEMBER)
    path = url("objectives:kr_edit", org, kr.public_id)
    assert client_for(stranger).post(path, {"title": "Mine now"}, **HX).status_code == 403


def test_viewer_cannot_edit_or_delete_a_kr(client_for, viewer, kr):
    org = kr.organization
    assert client_for(viewer).get(url("objectives:kr_edit", org, kr.public_id), **HX).status_code == 403
    assert client_for(viewer).post(url("objectives:kr_delete", org, kr.public_id)).status_code == 403


def test_kr_of_other_org_is_404(client_for, admin, foreign):
    kr_id = foreign["kr"].public_id
    client = client_for(admin)
    org = admin.organization
    assert client.get(url("objectives:kr_detail", org, kr_id)).status_code == 404
    assert client.get(url("objectives:kr_edit", org, kr_id), **HX).status_code == 404
    assert client.get(url("objectives:kr_row", org, kr_id), **HX).status_code == 404
    assert client.post(url("objectives:kr_delete", org, kr_id)).status_code == 404


def test_kr_delete(client_for, admin, kr):
    response = client_for(admin).post(url("objectives:kr_delete", kr.organization, kr.public_id), **HX)
    assert response.status_code == 204
    assert not KeyResult.objects.filter(pk=kr.pk).exists()


def test_kr_page_shows_history_initiatives_and_revisions(client_for, viewer, kr, member):
    org = kr.organization
    monday = dt.date.today() - dt.timedelta(days=dt.date.today().weekday())
    for weeks, value in ((2, 20), (1, 35)):
        CheckIn.objects.create(
            organization=org,
            key_result=kr,
            author=member,
            value=value,
            confidence=7,
            comment=f"week -{weeks}",
            week_start=monday - dt.timedelta(weeks=weeks),
        )
    InitiativeFactory(key_result=kr, title="Onboarding emails")
    Revision.objects.create(
        organization=org, key_result=kr, author=member, changes={"target": ["80", "100"]}, rationale="Better data"
    )
    response = client_for(viewer).get(url("objectives:kr_detail", org, kr.public_id))
    assert response.status_code == 200
    body = response.content.decode()
    for text in ("History and forecast", "<polyline", "week -1", "Onboarding emails", "Better data", "diff-old"):
        assert text in body, text
    assert 'data-testid="edit-kr"' not in body  # viewers read only


def test_kr_page_query_count_does_not_grow(client_for, admin, kr):
    client = client_for(admin)
    org = kr.organization
    path = url("objectives:kr_detail", org, kr.public_id)
    monday = dt.date.today() - dt.timedelta(days=dt.date.today().weekday())

    def add(n, start):
        CheckIn.objects.bulk_create(
            CheckIn(organization=org, key_result=kr, value=i, week_start=monday, author=admin)
            for i in range(start, start + n)
        )
        Initiative.objects.bulk_create(
            Initiative(organization=org, key_result=kr, title=f"I{i}") for i in range(start, start + n)
        )
        Revision.objects.bulk_create(
            Revision(organization=org, key_result=kr, author=admin, changes={"target": [1, 2]}, rationale="r")
            for _ in range(n)
        )

    add(10, 0)
    client.get(path)
    small = _queries(client, path)
    add(990, 10)
    assert _queries(client, path) == small


# --- Team page ----------------------------------------------------------------------------------------------------
def test_team_page_lists_the_teams_objectives_in_the_current_cycle(client_for, viewer, cycle, member):
    team = TeamFactory(organization=cycle.organization, name="Platform")
    ObjectiveFactory(cycle=cycle, owner=member, title="Boringly reliable", level="team", team=team)
    ObjectiveFactory(cycle=cycle, owner=member, title="Not this team", level="company")
    response = client_for(viewer).get(url("objectives:team_okrs", cycle.organization, team.public_id))
    assert response.status_code == 200
    assert b"Boringly reliable" in response.content and b"Not this team" not in response.content


def test_team_page_without_cycles_says_so(client_for, viewer):
    team = TeamFactory(organization=viewer.organization)
    response = client_for(viewer).get(url("objectives:team_okrs", viewer.organization, team.public_id))
    assert response.status_code == 200
    assert b"No cycle yet" in response.content


def test_team_page_of_other_org_team_is_404(client_for, member, outsider):
    team = TeamFactory(organization=outsider.organization)
    assert client_for(member).get(url("objectives:team_okrs", member.organization, team.public_id)).status_code == 404


def test_team_page_query_count_does_not_grow(client_for, admin, cycle):
    team = TeamFactory(organization=cycle.organization)
    client = client_for(admin)
    path = url("objectives:team_okrs", cycle.organization, team.public_id)
    _bulk_objectives(cycle, admin, 10, team=team)
    client.get(path)
    small = _queries(client, path)
    _bulk_objectives(cycle, admin, 990, team=team)
    assert _queries(client, path) == small


def test_cycle_list_query_count_does_not_grow(client_for, admin):
    client = client_for(admin)
    org = admin.organization
    path = url("objectives:cycle_list", org)
    Cycle.objects.bulk_create(
        Cycle(organization=org, name=f"C{i}", start_date=dt.date(2000 + i, 1, 1), end_date=dt.date(2000 + i, 3, 31))
        for i in range(10)
    )
    client.get(path)
    small = _queries(client, path)
    Cycle.objects.bulk_create(
        Cycle(organization=org, name=f"D{i}", start_date=dt.date(1000 + i, 1, 1), end_date=dt.date(1000 + i, 3, 31))
        for i in range(990)
    )
    assert _queries(client, path) == small


def test_dashboard_query_count_does_not_grow(client_for, admin, cycle):
    client = client_for(admin)
    path = reverse("accounts:dashboard", args=[cycle.organization.slug])
    _bulk_objectives(cycle, admin, 10)
    client.get(path)
    small = _queries(client, path)
    _bulk_objectives(cycle, admin, 990)
    assert _queries(client, path) == small


def test_in_place_edit_answers_with_the_new_tab_title(client_for, member, cycle):
    objective = ObjectiveFactory(cycle=cycle, owner=member, title="Old name", level="company")
    path = url("objectives:objective_edit", cycle.organization, objective.public_id)
    data = {"title": "New <name>", "level": "company", "visibility": "organization", "owner": member.pk}
    body = client_for(member).post(path, data, **HX).content.decode()
    assert body.startswith("<title>New &lt;name&gt; · okrapp</title>") and 'id="objective-header"' in body
