"""The My week page: what it lists, Save all (all or nothing), htmx row saves, permissions, other org → 404."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from checkins import services
from checkins.models import CheckIn
from initiatives.models import Initiative
from objectives.models import Cycle, KeyResult
from tests.checkins.checkin_helpers import make_cycle, make_initiative, make_kr

WEDNESDAY = datetime(2026, 5, 13, 12, 0, tzinfo=UTC)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _in_q2():
    with time_machine.travel(WEDNESDAY, tick=False):
        yield


def url(member, name="checkins:my_week", *args):
    return reverse(name, args=[member.organization.slug, *args])


def row_data(kr, value, confidence="", comment=""):
    prefix = f"kr-{kr.public_id}"
    return {f"{prefix}-value": value, f"{prefix}-confidence": confidence, f"{prefix}-comment": comment}


def initiative_data(initiative, status, progress):
    prefix = f"in-{initiative.public_id}"
    return {f"{prefix}-status": status, f"{prefix}-progress": progress}


def test_my_week_lists_my_active_krs_and_open_initiatives_only(client_for, member, admin):
    cycle = make_cycle(member.organization)
    mine = make_kr(member, cycle=cycle, title="Grow weekly active teams", current=42, unit=KeyResult.Unit.PERCENT)
    make_kr(member, cycle=cycle, title="A draft KR", status=KeyResult.Status.DRAFT)
    make_kr(member, cycle=make_cycle(member.organization, status=Cycle.Status.CLOSED, name="Old"), title="Closed one")
    make_kr(admin, cycle=cycle, title="Someone else's KR")
    make_initiative(mine, owner=member, title="Guided setup")
    make_initiative(mine, owner=member, title="Finished thing", status=Initiative.Status.DONE)
    response = client_for(member).get(url(member))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Grow weekly active teams" in html and "42%" in html
    assert "Guided setup" in html
    for hidden in ("A draft KR", "Closed one", "Someone else&#x27;s KR", "Finished thing"):
        assert hidden not in html
    assert 'value="42"' in html  # the new value starts at the current one
    assert "0 of 1 key result checked in this week." in html


def test_checked_in_krs_are_marked(client_for, member):
    done = make_kr(member, title="Done KR")
    make_kr(member, title="Todo KR")
    services.checkin_submit(org=member.organization, actor=member, key_result=done, value=60)
    html = client_for(member).get(url(member)).content.decode()
    assert html.count('data-testid="checked-in"') == 1
    assert html.count('data-testid="not-checked-in"') == 1
    assert "1 of 2 key results checked in this week." in html
    assert html.index("Done KR") < html.index('data-testid="checked-in"') < html.index("Todo KR")


def test_my_week_query_count_is_the_same_for_10_and_100_krs(client_for, member, django_assert_max_num_queries):
    cycle = make_cycle(member.organization)
    client = client_for(member)

    def add_krs(start, stop):
        for i in range(start, stop):
            kr = make_kr(member, cycle=cycle, title=f"KR {i}")
            if i % 3 == 0:
                make_initiative(kr, owner=member)

    client.get(url(member))  # the first visit also saves the session (last org); measure steady state
    counts = []
    for start, stop in ((0, 10), (10, 100)):
        add_krs(start, stop)
        # session, user, membership, KRs, initiatives, org switcher (+ savepoints)
        with django_assert_max_num_queries(12) as captured:
            response = client.get(url(member))
        assert response.content.decode().count('data-testid="kr-row"') == stop
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_save_all_checks_in_every_row(client_for, member):
    a, b = make_kr(member, current=1), make_kr(member, current=2)
    initiative = make_initiative(a, owner=member, progress=0)
    data = {**row_data(a, "5", "7", "moving"), **row_data(b, "2", "6"), **initiative_data(initiative, "blocked", "30")}
    response = client_for(member).post(url(member), data)
    assert response.status_code == 302 and response.url == url(member)
    assert CheckIn.objects.count() == 2
    a.refresh_from_db()
    b.refresh_from_db()
    initiative.refresh_from_db()
    assert (a.current, a.confidence, b.current, b.confidence) == (5, 7, 2, 6)
    assert (initiative.status, initiative.progress) == ("blocked", 30)


def test_save_all_reads_a_decimal_comma(client_for, member):
    kr = make_kr(member, current=1, confidence=5)
    services.checkin_submit(org=member.organization, actor=member, key_result=kr, value="39.5", confidence=5)
    response = client_for(member).post(url(member), row_data(kr, "39,5", "5"))
    assert response.status_code == 302
    assert CheckIn.objects.count() == 1  # "39,5" is the current 39.5: unchanged, so no second check-in
    client_for(member).post(url(member), row_data(kr, "40,25", "5"))
    kr.refresh_from_db()
    assert kr.current == Decimal("40.25") and CheckIn.objects.count() == 2


def test_save_all_skips_rows_already_checked_in_and_unchanged(client_for, member):
    kr = make_kr(member, current=1, confidence=5)
    services.checkin_submit(org=member.organization, actor=member, key_result=kr, value=3, confidence=5)
    response = client_for(member).post(url(member), row_data(kr, "3", "5"))
    assert response.status_code == 302
    assert CheckIn.objects.count() == 1
    client_for(member).post(url(member), row_data(kr, "3", "6"))  # a changed confidence is a new check-in
    assert CheckIn.objects.count() == 2


def test_save_all_with_a_bad_row_saves_nothing_and_shows_the_error_inline(client_for, member):
    good = make_kr(member, current=1, title="Good one")
    steps = make_kr(
        member, kind=KeyResult.Kind.MILESTONE, milestone_steps=["a", "b"], current=0, target=2, title="Staged"
    )
    response = client_for(member).post(url(member), {**row_data(good, "9", "8"), **row_data(steps, "3")})
    assert response.status_code == 422
    html = response.content.decode()
    assert "Enter how many of the 2 steps are done: a whole number 0–2." in html
    assert "Nothing was saved" in html
    assert 'value="9"' in html  # what the person typed is kept
    assert not CheckIn.objects.exists()


def test_viewer_cannot_post_my_week(client_for, viewer):
    assert client_for(viewer).post(url(viewer), {}).status_code == 403


def test_htmx_row_save_returns_the_checked_in_row_and_the_new_count(client_for, member):
    kr, other = make_kr(member, current=1, title="First"), make_kr(member, title="Second")
    response = client_for(member).post(
        url(member, "checkins:my_week_kr_save", kr.public_id),
        {**row_data(kr, "4", "6"), **row_data(other, "x")},
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="kr-row-{kr.public_id}"' in html and 'data-testid="checked-in"' in html
    assert "Second" not in html  # only the row (the other row's bad value is not its business)
    assert 'hx-swap-oob="true"' in html and "1 of 2 key results checked in this week." in html
    kr.refresh_from_db()
    assert kr.current == 4


def test_htmx_invalid_row_is_422_with_inline_errors(client_for, member):
    kr = make_kr(member, current=1)
    response = client_for(member).post(
        url(member, "checkins:my_week_kr_save", kr.public_id), row_data(kr, "lots", "11"), **HTMX
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Enter a number." in html and "Confidence is a whole number from 0 to 10." in html
    assert 'aria-invalid="true"' in html
    assert not CheckIn.objects.exists()


def test_row_save_without_htmx_redirects_back(client_for, member):
    kr = make_kr(member)
    response = client_for(member).post(url(member, "checkins:my_week_kr_save", kr.public_id), row_data(kr, "7"))
    assert response.status_code == 302
    assert CheckIn.objects.get().value == 7


def test_row_save_on_someone_elses_kr_is_403(client_for, member, admin):
    kr = make_kr(admin)
    response = client_for(member).post(url(member, "checkins:my_week_kr_save", kr.public_id), row_data(kr, "7"), **HTMX)
    assert response.status_code == 403


def test_row_save_on_another_orgs_kr_is_404(client_for, member, outsider):
    kr = make_kr(outsider)
    response = client_for(member).post(url(member, "checkins:my_week_kr_save", kr.public_id), row_data(kr, "7"), **HTMX)
    assert response.status_code == 404
    initiative = make_initiative(kr, owner=outsider)
    response = client_for(member).post(
        url(member, "checkins:my_week_initiative_save", initiative.public_id),
        initiative_data(initiative, "done", "100"),
        **HTMX,
    )
    assert response.status_code == 404


def test_my_week_of_another_org_is_404(client_for, member, other_org):
    assert client_for(member).get(reverse("checkins:my_week", args=[other_org.slug])).status_code == 404


def test_htmx_initiative_row_save(client_for, member):
    initiative = make_initiative(make_kr(member), owner=member, progress=0)
    save = url(member, "checkins:my_week_initiative_save", initiative.public_id)
    response = client_for(member).post(save, initiative_data(initiative, "in_progress", "55"), **HTMX)
    assert response.status_code == 200 and 'data-testid="row-saved"' in response.content.decode()
    initiative.refresh_from_db()
    assert initiative.progress == 55
    response = client_for(member).post(save, initiative_data(initiative, "in_progress", "500"), **HTMX)
    assert response.status_code == 422 and "Progress is a whole number from 0 to 100." in response.content.decode()


def test_home_lands_kr_owners_on_my_week_and_others_on_the_dashboard(client_for, member, viewer):
    make_kr(member)
    assert client_for(member).get(reverse("home")).url == url(member)
    assert client_for(viewer).get(reverse("home")).url == reverse("accounts:dashboard", args=[viewer.organization.slug])


def test_kr_history_page(client_for, member, viewer, outsider):
    kr = make_kr(member, title="Increase activation")
    services.checkin_submit(org=member.organization, actor=member, key_result=kr, value=12, comment="first week")
    page = reverse("checkins:kr_history", args=[member.organization.slug, kr.public_id])
    response = client_for(viewer).get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="img"' in html and "first week" in html and 'data-testid="kr-chart"' in html
    other = make_kr(outsider)
    assert (
        client_for(member)
        .get(reverse("checkins:kr_history", args=[member.organization.slug, other.public_id]))
        .status_code
        == 404
    )


def test_kr_history_of_a_private_objective_is_404_for_others(client_for, member, admin):
    from objectives.models import Objective

    kr = make_kr(admin, visibility=Objective.Visibility.PRIVATE)
    page = reverse("checkins:kr_history", args=[member.organization.slug, kr.public_id])
    assert client_for(member).get(page).status_code == 404
    assert client_for(admin).get(page).status_code == 200
