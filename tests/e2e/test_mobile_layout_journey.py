"""Phone width (390×844): the org switcher's menu opens inside the screen, and the webhooks page (with its Python
signature sample) does not scroll sideways: long code scrolls inside its own box."""

from playwright.sync_api import expect

from accounts.demo import DEMO_PASSWORD, seed_demo_people
from tests.e2e.conftest import MOBILE, login


def test_org_menu_and_webhooks_page_fit_a_phone(chromium_context_factory, live_server):
    seed_demo_people()
    page = chromium_context_factory(MOBILE)
    login(page, live_server, "demo@okrapp.local", DEMO_PASSWORD)
    page.goto(f"{live_server.url}/o/demo/settings/webhooks/")
    expect(page.get_by_test_id("webhook-docs")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"]
    code = page.get_by_test_id("webhook-docs").locator("pre")
    assert code.evaluate("el => el.scrollWidth > el.clientWidth")  # the sample scrolls inside its box

    switcher = page.get_by_test_id("org-switcher")
    switcher.locator("summary").click()
    panel = switcher.locator(".menu-panel")
    expect(panel).to_be_visible()
    box = panel.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= MOBILE["width"], box
    assert page.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"]
    expect(panel.get_by_role("link", name="Webhooks")).to_be_visible()
