"""My week: "Save all" with a bad value comes back with the first invalid field focused (as a row's own Save does),
and an initiative past its due date carries an Overdue chip."""

from datetime import date, timedelta

from playwright.sync_api import expect

from tests.checkins.checkin_helpers import make_cycle, make_initiative, make_kr
from tests.e2e.conftest import login

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's password


def test_save_all_focuses_the_first_invalid_field_and_overdue_is_marked(chromium_page, live_server, member):
    page = chromium_page
    today = date.today()  # the live server runs on the real clock
    cycle = make_cycle(member.organization, start=today - timedelta(days=30), end=today + timedelta(days=60))
    first = make_kr(member, cycle=cycle, title="Increase weekly active teams", current=20, target=100)
    second = make_kr(member, cycle=cycle, title="Raise activation", current=34, target=52)
    late = make_initiative(first, owner=member, title="Guided setup", due_date=today - timedelta(days=3))
    on_time = make_initiative(first, owner=member, title="Docs refresh", due_date=today + timedelta(days=3))

    login(page, live_server, member.user.email, PASSWORD)
    page.goto(f"{live_server.url}/o/{member.organization.slug}/my-week/")
    expect(page.locator(f"#initiative-row-{late.public_id}").get_by_test_id("overdue")).to_have_text("Overdue")
    expect(page.locator(f"#initiative-row-{on_time.public_id}").get_by_test_id("overdue")).to_have_count(0)

    page.locator(f"#kr-row-{second.public_id} .checkin-value").fill("lots")
    page.get_by_test_id("save-all").click()
    bad = page.locator(f"#kr-row-{second.public_id} .checkin-value")
    expect(bad).to_have_attribute("aria-invalid", "true")
    expect(bad).to_be_focused()
    expect(page.locator(f"#initiative-row-{late.public_id}").get_by_test_id("overdue")).to_be_visible()
