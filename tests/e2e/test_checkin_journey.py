"""The weekly check-in journey in a real browser (issue 4 §1).

A member logs in through the real form and lands on My week; checks in two KRs with the keyboard only (Enter saves
a row through htmx, Tab moves on to the next row); a bad value comes back inline (422) without losing anything; both
rows show "checked in"; the KR's history page shows the new point on the chart and the comment in the timeline.
"""

import re
from datetime import date, timedelta

from playwright.sync_api import expect

from checkins.models import CheckIn
from objectives.models import KeyResult
from tests.checkins.checkin_helpers import make_cycle, make_initiative, make_kr
from tests.e2e.conftest import login

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's password


def test_member_checks_in_two_krs_with_the_keyboard(chromium_page, live_server, member):
    page = chromium_page
    today = date.today()  # the live server runs on the real clock
    cycle = make_cycle(member.organization, start=today - timedelta(days=30), end=today + timedelta(days=60))
    first = make_kr(member, cycle=cycle, title="Increase weekly active teams", current=20, target=100)
    second = make_kr(member, cycle=cycle, title="Raise activation", current=34, target=52, unit=KeyResult.Unit.PERCENT)
    make_initiative(first, owner=member, title="Guided setup")
    slug = member.organization.slug

    login(page, live_server, member.user.email, PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/o/{slug}/my-week/")  # KR owners land on My week
    expect(page.get_by_test_id("my-week-summary")).to_contain_text("0 of 2 key results checked in this week.")
    expect(page.locator("nav.mainnav a").first).to_have_text("My week")

    row1 = page.locator(f"#kr-row-{first.public_id}")
    row2 = page.locator(f"#kr-row-{second.public_id}")
    expect(row1.locator(".checkin-value")).to_have_value("20")

    # Row 1, keyboard only: value, Tab, confidence, Tab, comment, Enter saves the row.
    row1.locator(".checkin-value").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("30")
    page.keyboard.press("Tab")
    page.keyboard.type("8")
    page.keyboard.press("Tab")
    page.keyboard.type("Good week: wizard shipped")
    page.keyboard.press("Enter")
    expect(row1.get_by_test_id("checked-in")).to_be_visible()
    expect(row1.get_by_test_id("current-value")).to_have_text("30")
    expect(page.get_by_test_id("my-week-summary")).to_contain_text("1 of 2 key results checked in this week.")

    # Tab on from row 1 (focus stays in the swapped row): past its Save button and History link into row 2.
    expect(row1.locator(".checkin-comment")).to_be_focused()
    page.keyboard.press("Tab")
    expect(row1.locator(".checkin-save")).to_be_focused()
    page.keyboard.press("Tab")
    expect(row1.locator(".checkin-history-link")).to_be_focused()
    page.keyboard.press("Tab")
    expect(row2.locator(".checkin-value")).to_be_focused()

    # A bad value: 422, the error shows inline, focus goes to the field, row 1 is untouched.
    page.keyboard.press("Control+A")
    page.keyboard.type("lots")
    page.keyboard.press("Enter")
    expect(row2.get_by_test_id("field-error")).to_have_text("Enter a number.")
    expect(row2.locator(".checkin-value")).to_be_focused()
    expect(row1.get_by_test_id("checked-in")).to_be_visible()
    page.keyboard.press("Control+A")
    page.keyboard.type("41.5")
    page.keyboard.press("Enter")
    expect(row2.get_by_test_id("checked-in")).to_be_visible()
    expect(row2.get_by_test_id("current-value")).to_have_text(re.compile(r"^41\.5|^42%$"))
    expect(page.get_by_test_id("my-week-summary")).to_contain_text("2 of 2 key results checked in this week.")

    # Reloading keeps the state: both rows are checked in this week.
    page.reload()
    expect(page.get_by_test_id("checked-in")).to_have_count(2)
    assert CheckIn.objects.filter(key_result__in=[first, second]).count() == 2

    # The KR history shows the new point and the comment.
    row1.locator(".checkin-history-link").click()
    expect(page).to_have_url(f"{live_server.url}/o/{slug}/key-results/{first.public_id}/history/")
    chart = page.locator("svg.kr-chart-value")
    expect(chart).to_have_attribute("role", "img")
    expect(chart.locator("circle.point")).to_have_count(1)
    expect(chart.locator("line.ideal")).to_have_count(1)
    expect(page.get_by_test_id("chart-current")).to_have_text("30")
    expect(page.get_by_test_id("confidence")).to_have_text("8/10")
    expect(page.get_by_test_id("timeline")).to_contain_text("Good week: wizard shipped")


def test_a_row_swapped_in_answers_the_next_key_at_once(chromium_page, live_server, member):
    """htmx restores focus the moment it swaps a row in; the row's Save button must already work then.

    The next key is pressed from a zero-delay timer started when focus lands in the new row: the earliest moment a
    person (or a loaded CI browser) can act. With htmx's default 20 ms settle delay that Enter hit an unbound button
    and nothing was saved.
    """
    page = chromium_page
    today = date.today()
    cycle = make_cycle(member.organization, start=today - timedelta(days=30), end=today + timedelta(days=60))
    kr = make_kr(member, cycle=cycle, title="Raise activation", current=34, target=52)
    login(page, live_server, member.user.email, PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/o/{member.organization.slug}/my-week/")
    page.evaluate(
        """() => document.addEventListener("focusin", (e) => {
          if (window.__retyped || !e.target.matches(".checkin-value")) return;
          if (!e.target.closest(".checkin-row").querySelector("[data-testid=field-error]")) return;
          window.__retyped = true;
          setTimeout(() => {
            e.target.value = "41";
            e.target.dispatchEvent(new KeyboardEvent("keydown", {key: "Enter", bubbles: true}));
          }, 0);
        })"""
    )
    row = page.locator(f"#kr-row-{kr.public_id}")
    row.locator(".checkin-value").fill("lots")
    row.locator(".checkin-value").press("Enter")
    expect(row.get_by_test_id("checked-in")).to_be_visible()
    expect(row.get_by_test_id("current-value")).to_have_text("41")
    assert page.evaluate("window.__retyped") is True
