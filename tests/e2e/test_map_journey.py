"""A leader opens the alignment map on the demo data: the cascade, the watermelon warning, the signal filter, and a
team filter swapped in by htmx (Chromium, DESIGN.md §1 "leader")."""

from playwright.sync_api import expect

from accounts.demo import DEMO_PASSWORD, seed_demo_people
from objectives.demo import seed_demo_okrs
from tests.e2e.conftest import MOBILE, login, screenshot


def _seed():
    org, people, teams = seed_demo_people()
    seed_demo_okrs(org=org, people=people, teams=teams)
    return org


def test_leader_reads_the_map_and_drills_into_watermelons(chromium_page, live_server):
    org = _seed()
    page = chromium_page
    login(page, live_server, "demo@okrapp.local", DEMO_PASSWORD)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Map").click()
    expect(page.locator("h1")).to_contain_text("Alignment map")

    # The cascade: company objectives at the roots, a team objective nested under a company KR.
    roots = page.locator(".map-roots > .map-item > .map-node")
    expect(roots.first).to_be_visible()
    assert roots.count() >= 3
    nested = page.locator(".map-kr .map-node[data-title='Turn sign-ups into active teams']")
    expect(nested).to_be_visible()

    # The warnings panel: the watermelon tile has a count and leads to the watermelon KRs.
    tile = page.get_by_test_id("warning-watermelon")
    expect(tile.locator(".warn-n")).not_to_have_text("0")
    expect(page.get_by_test_id("warning-unlinked_work")).to_contain_text("Asana or Jira")
    # The panel arrived after the first paint and filled the KR and initiative counts in (out of band).
    expect(page.get_by_test_id("map-counts")).to_contain_text("key results")
    expect(page.get_by_test_id("map-counts")).not_to_contain_text("…")
    screenshot(page, "map")
    tile.click()
    expect(page.get_by_test_id("map-filter-note")).to_contain_text("Watermelon")
    expect(page.locator("#map-tree [data-signal=watermelon]").first).to_be_visible()
    assert "signal=watermelon" in page.url

    # The team filter swaps the tree in place.
    page.locator("#map-signal").select_option("")
    expect(page.get_by_test_id("map-filter-note")).to_have_count(0)
    page.locator("#map-team").select_option(label="Platform")
    expect(page.locator(".map-node[data-title='Make the platform boringly reliable']")).to_be_visible()
    expect(page.locator(".map-node[data-title='Turn sign-ups into active teams']")).to_have_count(0)

    # Collapse all, expand all.
    page.get_by_role("button", name="Collapse all").click()
    expect(page.locator("#map-tree details.map-node[open]")).to_have_count(0)
    page.get_by_role("button", name="Expand all").click()
    expect(page.locator("#map-tree details.map-node:not([open])")).to_have_count(0)
    assert org.slug in page.url


def test_map_reads_on_a_phone(chromium_context_factory, live_server):
    _seed()
    page = chromium_context_factory(viewport=MOBILE)
    login(page, live_server, "demo@okrapp.local", DEMO_PASSWORD)
    page.goto(f"{live_server.url}/o/demo/map/")
    expect(page.get_by_test_id("warning-watermelon")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 392, f"the map scrolls sideways on a phone ({width}px)"
    screenshot(page, "map")
