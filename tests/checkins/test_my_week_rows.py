"""My week for a heavy owner: the same queries for 10 and 150 KRs, and rows drawn in Python (checkins.forms.MyWeekRows)
that keep everything the template-drawn rows had: labelled inputs, units, milestone inputs, escaped text, checked-in
chips, and inline errors that lose nothing the person typed."""

import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from checkins import selectors, services
from checkins.forms import MyWeekRows
from checkins.models import CheckIn
from initiatives.models import Initiative
from objectives.models import KeyResult
from tests.checkins.checkin_helpers import make_cycle, make_initiative, make_kr
from tests.factories_okr import InitiativeFactory, KeyResultFactory, ObjectiveFactory

WEDNESDAY = datetime(2026, 5, 13, 12, 0, tzinfo=UTC)
HTMX = {"HTTP_HX_REQUEST": "true"}
KR_ROW = 'data-testid="kr-row"'
INITIATIVE_ROW = 'data-testid="initiative-row"'


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


def add_rows(member, objective, count, *, every=3):
    """`count` KRs owned by `member`, every third with an open initiative, a third of them checked in this week."""
    krs = []
    for i in range(count):
        kr = KeyResultFactory(objective=objective, owner=member, title=f"KR {i}", current=i, position=i)
        if i % every == 0:
            InitiativeFactory(key_result=kr, owner=member, progress=i % 100)
        if i % 3 == 1:
            CheckIn.objects.create(
                organization=kr.organization,
                key_result=kr,
                author=member,
                value=kr.current,
                week_start=date(2026, 5, 11),
            )
        krs.append(kr)
    return krs


def _queries(client, method, path, data=None, **extra):
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(path, data, **extra) if data is not None else client.get(path)
    return response, [q["sql"] for q in captured.captured_queries]


# --- Constant queries ---------------------------------------------------------------------------------------------
def test_my_week_page_queries_are_the_same_for_10_and_150_krs(client_for, member, django_assert_num_queries):
    objective = ObjectiveFactory(organization=member.organization, cycle=make_cycle(member.organization), owner=member)
    client = client_for(member)
    add_rows(member, objective, 10)
    client.get(url(member))  # the first visit also saves the session (last org); measure the steady state
    response, small = _queries(client, "get", url(member))
    html = response.content.decode()
    assert html.count(KR_ROW) == 10 and html.count(INITIATIVE_ROW) == 4
    assert "3 of 10 key results checked in this week." in html
    # session, user, membership, KRs (with "checked in this week"), initiatives, org switcher (+ savepoints)
    assert len(small) <= 10, small

    add_rows(member, ObjectiveFactory(organization=member.organization, cycle=objective.cycle, owner=member), 140)
    with django_assert_num_queries(len(small)):
        response = client.get(url(member))
    html = response.content.decode()
    assert html.count(KR_ROW) == 150 and html.count(INITIATIVE_ROW) == 4 + 47
    assert html.count('data-testid="checked-in"') == 3 + 47 and "50 of 150 key results checked in this week." in html


def test_row_save_and_save_all_errors_take_the_same_queries_for_10_and_150_krs(
    client_for, member, django_assert_num_queries
):
    """The htmx row save re-counts the summary in one query; a Save all with bad rows re-draws every row from the
    POST without a query per row."""
    objective = ObjectiveFactory(organization=member.organization, cycle=make_cycle(member.organization), owner=member)
    client = client_for(member)
    add_rows(member, objective, 10)
    client.get(url(member))
    # Warm-up save: an org's first check-in also reads which webhook events it subscribes to (then cached).
    warm = KeyResult.objects.filter(owner=member).order_by("pk").first()
    client.post(url(member, "checkins:my_week_kr_save", warm.public_id), row_data(warm, "4"), **HTMX)

    def posts():
        """A row save, and a Save all with every value wrong (built before the measured requests)."""
        krs = list(KeyResult.objects.filter(owner=member).order_by("pk"))
        data = {}
        for kr in krs:
            data.update(row_data(kr, "lots"))
        for initiative in Initiative.objects.filter(owner=member):
            data.update(initiative_data(initiative, "in_progress", "10"))
        return krs[-1], data

    def measure(kr, data):
        row, row_queries = _queries(
            client, "post", url(member, "checkins:my_week_kr_save", kr.public_id), row_data(kr, "5"), **HTMX
        )
        assert row.status_code == 200 and 'data-testid="row-saved"' in row.content.decode()
        bad, bad_queries = _queries(client, "post", url(member), data)
        assert bad.status_code == 422
        return row_queries, bad_queries, bad.content.decode()

    row_small, bad_small, html = measure(*posts())
    assert html.count('data-testid="field-error"') == 10 and "10 rows need fixing. Nothing was saved." in html
    add_rows(member, ObjectiveFactory(organization=member.organization, cycle=objective.cycle), 140)
    kr, data = posts()
    with django_assert_num_queries(len(row_small) + len(bad_small)):
        _row, _bad, html = measure(kr, data)
    assert html.count(KR_ROW) == 150 and html.count('data-testid="field-error"') == 150
    assert "150 rows need fixing. Nothing was saved." in html and html.count('value="lots"') == 150
    assert CheckIn.objects.filter(value=5).count() == 2  # only the two row saves


# --- What a row shows ---------------------------------------------------------------------------------------------
def test_every_input_has_a_label_and_a_unit_where_it_has_one(client_for, member):
    cycle = make_cycle(member.organization)
    pct = make_kr(member, cycle=cycle, title="Raise activation", current=34, unit=KeyResult.Unit.PERCENT, confidence=7)
    eur = make_kr(
        member,
        cycle=cycle,
        title="Grow MRR",
        current="1200.5",
        decimals=2,
        unit=KeyResult.Unit.CURRENCY,
        unit_label="€",
    )
    make_initiative(pct, owner=member, title="Guided setup", status=Initiative.Status.BLOCKED, progress=40)
    html = client_for(member).get(url(member)).content.decode()
    ids = set(re.findall(r' id="([^"]+)"', html))
    labels = re.findall(r'<label for="([^"]+)">', html)
    assert len(labels) == 2 * 3 + 2 and set(labels) <= ids  # value, confidence, comment; status, progress
    p = f"kr-{pct.public_id}"
    assert re.search(rf'<input type="text" name="{p}-value" value="34" [^>]*inputmode="decimal"', html)
    assert re.search(rf'name="{p}-value"[^>]*><span class="unit" aria-hidden="true">%</span>', html)
    assert f'name="{p}-confidence" value="7" min="0" max="10" step="1"' in html
    assert f'<input type="text" name="kr-{eur.public_id}-value" value="1200.50"' in html
    assert re.search(rf'name="kr-{eur.public_id}-value"[^>]*><span class="unit" aria-hidden="true">€</span>', html)
    assert 'placeholder="What changed, what&#x27;s next?"' in html
    assert '<option value="blocked" selected>Blocked</option>' in html
    assert re.search(r'name="in-[^"]+-progress" value="40" min="0" max="100"[^>]*><span class="unit"[^>]*>%', html)
    assert f'href="{url(member, "checkins:kr_history", pct.public_id)}"' in html
    assert f'hx-post="{url(member, "checkins:my_week_kr_save", pct.public_id)}"' in html


def test_milestone_rows_take_steps_or_done(client_for, member):
    cycle = make_cycle(member.organization)
    staged = make_kr(member, cycle=cycle, kind=KeyResult.Kind.MILESTONE, milestone_steps=["a", "b", "c"], current=1)
    binary = make_kr(member, cycle=cycle, kind=KeyResult.Kind.MILESTONE, current=0, target=1)
    html = client_for(member).get(url(member)).content.decode()
    assert re.search(
        rf'<label for="id_kr-{staged.public_id}-value">Steps done</label><span class="input-unit">'
        rf'<input type="number" name="kr-{staged.public_id}-value" value="1" min="0" max="3" step="1"[^>]*>'
        r'<span class="unit" aria-hidden="true">of 3 steps</span>',
        html,
    )
    assert re.search(
        rf'<label for="id_kr-{binary.public_id}-value">Done\? \(1 = yes, 0 = no\)</label><span class="input-unit">'
        rf'<input type="number" name="kr-{binary.public_id}-value" value="0" min="0" max="1" step="1"',
        html,
    )
    assert "1 of 3 steps" in html and "Not done" in html  # the current values, as people read them


def test_titles_and_typed_text_are_escaped(client_for, member):
    cycle = make_cycle(member.organization)
    kr = make_kr(member, cycle=cycle, title='<b>"Grow" & win</b>')
    kr.objective.title = "<script>alert(1)</script>"
    kr.objective.save()
    make_initiative(kr, owner=member, title="<i>Ship</i>")
    response = client_for(member).post(
        url(member), row_data(kr, '"><script>x</script>', "", "a <b>bold</b> & 'odd' line")
    )
    assert response.status_code == 422
    html = response.content.decode()
    for raw in ('<b>"Grow"', "<script>alert", "<script>x", "<b>bold", "<i>Ship"):
        assert raw not in html
    assert "&lt;b&gt;&quot;Grow&quot; &amp; win&lt;/b&gt;" in html and "&lt;i&gt;Ship&lt;/i&gt;" in html
    assert 'value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in html
    assert 'value="a &lt;b&gt;bold&lt;/b&gt; &amp; &#x27;odd&#x27; line"' in html


# --- Errors lose nothing ------------------------------------------------------------------------------------------
def test_save_all_with_a_bad_row_keeps_every_typed_value_and_ties_errors_to_their_inputs(client_for, member):
    cycle = make_cycle(member.organization)
    good = make_kr(member, cycle=cycle, title="Good", current=1)
    bad = make_kr(member, cycle=cycle, title="Bad", current=1)
    initiative = make_initiative(good, owner=member, progress=10, due_date=date(2026, 6, 5))
    data = {
        **row_data(good, "9", "8", "Shipped the wizard"),
        **row_data(bad, "lots", "11"),
        **initiative_data(initiative, "blocked", "30"),
    }
    response = client_for(member).post(url(member), data)
    assert response.status_code == 422
    html = response.content.decode()
    assert "1 row needs fixing. Nothing was saved." in html
    g, b = f"kr-{good.public_id}", f"kr-{bad.public_id}"
    assert f'name="{g}-value" value="9"' in html and f'name="{g}-confidence" value="8"' in html
    assert f'name="{g}-comment" value="Shipped the wizard"' in html
    assert '<option value="blocked" selected>' in html and 'value="30"' in html and "Due 5 Jun" in html
    for field, message in (("value", "Enter a number."), ("confidence", "Confidence is a whole number from 0 to 10.")):
        field_id = f"id_{b}-{field}"
        assert re.search(rf'aria-invalid="true" aria-describedby="{field_id}_errors" id="{field_id}"', html)
        assert (
            f'<ul class="errorlist" id="{field_id}_errors" role="alert" data-testid="field-error"><li>{message}' in html
        )
    assert html.count('aria-invalid="true"') == 2 and html.count("has-errors") == 1
    assert not CheckIn.objects.exists()
    initiative.refresh_from_db()
    assert (initiative.status, initiative.progress) == ("in_progress", 10)


def test_a_value_too_long_for_the_form_is_an_inline_error_too(client_for, member):
    kr = make_kr(member, current=1)
    response = client_for(member).post(url(member), row_data(kr, "1" * 41, "", "kept"))
    assert response.status_code == 422
    html = response.content.decode()
    assert "1 row needs fixing. Nothing was saved." in html
    assert "Ensure this value has at most 40 characters (it has 41)." in html
    assert f'value="{"1" * 41}"' in html and 'value="kept"' in html
    assert not CheckIn.objects.exists()


def test_a_row_error_about_the_whole_row_shows_above_its_inputs(client_for, member):
    """A KR turned back into a draft after the page was drawn: the service's row-level error comes back inline."""
    kr = make_kr(member, current=1)
    client = client_for(member)
    assert client.get(url(member)).status_code == 200
    KeyResult.objects.filter(pk=kr.pk).update(status=KeyResult.Status.DRAFT)
    response = client.post(url(member, "checkins:my_week_kr_save", kr.public_id), row_data(kr, "4"), **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert 'role="alert" data-testid="row-error">This key result is still a draft.' in html
    assert 'value="4"' in html and "has-errors" in html
    assert not CheckIn.objects.exists()


# --- One drawing for the page and the row saves --------------------------------------------------------------------
def test_the_page_and_the_row_saves_draw_the_same_rows(client_for, member):
    """The page reads only the columns its rows show (KrFacts, InitiativeFacts); a row save draws from the models.
    Both give the same HTML."""
    cycle = make_cycle(member.organization)
    krs = [
        make_kr(member, cycle=cycle, current=12, unit=KeyResult.Unit.PERCENT, confidence=4),
        make_kr(member, cycle=cycle, kind=KeyResult.Kind.MAINTAIN, band_low=95, current="97.5", decimals=1),
        make_kr(member, cycle=cycle, kind=KeyResult.Kind.MILESTONE, milestone_steps=["a", "b"], current=2),
        make_kr(member, cycle=cycle, unit=KeyResult.Unit.CUSTOM, unit_label="NPS", current=-3),
    ]
    initiatives = [
        make_initiative(krs[0], owner=member, due_date=date(2026, 6, 1), progress=25),
        make_initiative(krs[2], owner=member, status=Initiative.Status.NOT_STARTED),
    ]
    services.checkin_submit(org=member.organization, actor=member, key_result=krs[1], value="98", confidence=9)
    html = client_for(member).get(url(member)).content.decode()
    org, draw = member.organization, MyWeekRows(member.organization.slug)
    page = selectors.my_week(org=org, membership=member)
    assert [r.checked_in for r in page.key_results] == [False, True, False, False]
    for kr, row in zip(krs, page.key_results, strict=True):
        model_row = selectors.my_week_kr(org=org, membership=member, key_result_id=kr.public_id)
        assert draw.kr_row(model_row) == draw.kr_row(row) and draw.kr_row(row) in html
    for initiative, facts in zip(initiatives, page.initiatives, strict=True):
        model = selectors.initiative_get(org=org, initiative_id=initiative.public_id)
        assert draw.initiative_row(model) == draw.initiative_row(facts) and draw.initiative_row(facts) in html


def test_save_all_writes_only_new_and_changed_rows(client_for, member):
    cycle = make_cycle(member.organization)
    krs = [make_kr(member, cycle=cycle, current=i, confidence=5) for i in range(6)]
    initiatives = [make_initiative(kr, owner=member, progress=10) for kr in krs[:4]]
    for kr in krs[1:]:
        services.checkin_submit(org=member.organization, actor=member, key_result=kr, value=kr.current, confidence=5)
    data = {}
    for kr in krs:
        data.update(row_data(kr, str(kr.current), "5"))
    for initiative in initiatives:
        data.update(initiative_data(initiative, "in_progress", "10"))
    data.update(row_data(krs[2], "2", "5", "a note"))  # a comment is a change
    data.update(initiative_data(initiatives[3], "blocked", "10"))
    response = client_for(member).post(url(member), data)
    assert response.status_code == 302
    # krs[0] was not checked in yet this week and krs[2] has a comment; the other four are unchanged
    per_kr = {kr.pk: CheckIn.objects.filter(key_result=kr).count() for kr in krs}
    assert per_kr == {krs[0].pk: 1, krs[1].pk: 1, krs[2].pk: 2, krs[3].pk: 1, krs[4].pk: 1, krs[5].pk: 1}
    assert CheckIn.objects.get(comment="a note").key_result_id == krs[2].pk
    assert [i.status for i in Initiative.objects.order_by("pk")] == ["in_progress"] * 3 + ["blocked"]
    assert [str(m) for m in response.wsgi_request._messages] == [
        "Checked in: 2 key results and 1 initiative. Thank you!"
    ]


def test_htmx_initiative_save_returns_the_row_with_its_due_date(client_for, member):
    initiative = make_initiative(make_kr(member), owner=member, progress=0, due_date=date(2026, 6, 5))
    save = url(member, "checkins:my_week_initiative_save", initiative.public_id)
    response = client_for(member).post(save, initiative_data(initiative, "in_progress", "55"), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and f'id="initiative-row-{initiative.public_id}"' in html
    assert "Due 5 Jun" in html and 'value="55"' in html and 'data-testid="row-saved"' in html
    assert 'hx-swap-oob="true"' in html and "0 of 1 key result checked in this week." in html


def test_nothing_to_check_in_shows_the_empty_state_without_a_form(client_for, viewer):
    html = client_for(viewer).get(url(viewer)).content.decode()
    assert 'data-testid="my-week-empty"' in html and 'data-testid="my-week-form"' not in html
    assert "No key results to check in this week." in html
