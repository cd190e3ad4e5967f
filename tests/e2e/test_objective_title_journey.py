"""Renaming an objective in place (htmx) also renames the browser tab: the title the page had is not left behind."""

import re

from playwright.sync_api import expect

from accounts.demo import DEMO_PASSWORD, seed_demo_people
from objectives.demo import seed_demo_okrs
from objectives.models import Objective
from tests.e2e.conftest import login


def test_editing_the_title_in_place_updates_the_tab_title(chromium_page, live_server):
    org, people, teams = seed_demo_people()
    seed_demo_okrs(org=org, people=people, teams=teams)
    objective = Objective.objects.filter(organization=org, title="Make the platform boringly reliable").get()
    page = chromium_page
    login(page, live_server, "demo@okrapp.local", DEMO_PASSWORD)
    page.goto(f"{live_server.url}/o/{org.slug}/objectives/{objective.public_id}/")
    expect(page).to_have_title(re.compile(r"^Make the platform boringly reliable"))

    page.get_by_test_id("edit-objective").click()
    form = page.get_by_test_id("objective-edit-form")
    form.locator("input[name=title]").fill("Make the platform calm & reliable")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("objective-header")).to_contain_text("Make the platform calm & reliable")
    expect(page).to_have_title("Make the platform calm & reliable · okrapp")
