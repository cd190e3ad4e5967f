"""kr_history / kr_chart_context: supersede within a week in the chart, full history kept, forecast vs confidence."""

from datetime import UTC, date, datetime, timedelta

from django.template.loader import render_to_string

from checkins import selectors, services
from tests.checkins.checkin_helpers import make_kr

MONDAY = datetime(2026, 4, 6, 9, 0, tzinfo=UTC)


def checkin(member, kr, value, when, **kw):
    return services.checkin_submit(org=member.organization, actor=member, key_result=kr, value=value, now=when, **kw)


def test_second_check_in_in_a_week_supersedes_the_first_in_the_series_only(member):
    kr = make_kr(member, current=0)
    first = checkin(member, kr, 10, MONDAY)
    second = checkin(member, kr, 12, MONDAY + timedelta(days=2))  # same ISO week
    third = checkin(member, kr, 20, MONDAY + timedelta(days=7))
    history = selectors.kr_history(org=member.organization, key_result=kr)
    assert [c.pk for c in history.checkins] == [third.pk, second.pk, first.pk]  # newest first, nothing dropped
    assert [(p.week_start, p.value) for p in history.series] == [(date(2026, 4, 6), 12), (date(2026, 4, 13), 20)]
    assert history.superseded_ids == {first.pk}


def test_chart_context_forecasts_and_flags_disagreement(member, django_assert_max_num_queries):
    kr = make_kr(member, baseline=0, target=100, current=0)
    for week, value in enumerate([2, 4, 6]):  # +2 a week: nowhere near 100 by the end of June
        checkin(member, kr, value, MONDAY + timedelta(days=7 * week), confidence=9, comment=f"week {week}")
    kr = selectors.key_result_get(org=member.organization, key_result_id=kr.public_id)
    with django_assert_max_num_queries(1):
        ctx = selectors.kr_chart_context(org=member.organization, key_result=kr, today=date(2026, 4, 22))
    assert ctx["forecast"].slope_per_week == 2
    assert ctx["forecast_progress_pct"] < 50
    assert "9/10" in ctx["signal"]
    assert [e.checkin.comment for e in ctx["timeline"]] == ["week 2", "week 1", "week 0"]
    assert 'class="forecast"' in ctx["chart_svg"] and 'role="img"' in ctx["confidence_svg"]


def test_chart_partial_renders_for_a_kr_without_check_ins(member):
    kr = make_kr(member)
    kr = selectors.key_result_get(org=member.organization, key_result_id=kr.public_id)
    ctx = selectors.kr_chart_context(org=member.organization, key_result=kr, today=date(2026, 4, 22))
    html = render_to_string("checkins/_kr_chart.html", {"chart": ctx})
    assert ctx["forecast"] is None and ctx["signal"] is None
    assert "needs 2 weekly check-ins" in html and "No check-ins yet." in html
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html  # marked safe, not escaped


def test_partial_shows_late_and_superseded_check_ins(member):
    kr = make_kr(member)
    checkin(member, kr, 1, MONDAY)
    checkin(member, kr, 2, MONDAY + timedelta(hours=3))
    checkin(member, kr, 3, datetime(2026, 7, 2, 9, 0, tzinfo=UTC))  # after the end of June
    kr = selectors.key_result_get(org=member.organization, key_result_id=kr.public_id)
    html = render_to_string(
        "checkins/_kr_chart.html",
        {"chart": selectors.kr_chart_context(org=member.organization, key_result=kr, today=date(2026, 7, 2))},
    )
    assert html.count(">superseded</span>") == 1
    assert html.count(">late</span>") == 1
