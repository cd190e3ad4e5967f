"""A leader finds objectives on the cycle board by typing: the board swaps in as they type (htmx), a KR title
finds its objective, the search survives a reload (it is in the URL), the CSV export takes the same rows, and
Clear filters brings everything back."""

import csv
import io
import pathlib
import re

from playwright.sync_api import expect

from accounts.demo import DEMO_PASSWORD, seed_demo_people
from objectives.demo import seed_demo_okrs
from tests.e2e.conftest import login


def test_typing_in_the_board_search_filters_the_cycle(chromium_page, live_server):
    org, people, teams = seed_demo_people()
    seed_demo_okrs(org=org, people=people, teams=teams)
    page = chromium_page
    login(page, live_server, "demo@okrapp.local", DEMO_PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="OKRs").click()
    rows = page.get_by_test_id("objective-row")
    expect(rows.filter(has_text="Make the platform boringly reliable")).to_have_count(1)

    search = page.get_by_role("searchbox", name="Search")
    search.press_sequentially("incidents", delay=30)  # a word of a KR title, not of any objective's title
    expect(rows.filter(has_text="Make the platform boringly reliable")).to_have_count(1)
    expect(rows.filter(has_text="Make onboarding effortless for new teams")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"[?&]q=incidents"))
    expect(search).to_be_focused()  # the board swapped in, the search box kept the caret

    # The export takes what is on screen: the searched objective's key results only.
    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    text = pathlib.Path(download.value.path()).read_text(encoding="utf-8-sig")
    objectives = {row["Objective"] for row in csv.DictReader(io.StringIO(text))}
    assert objectives == {"Make the platform boringly reliable"}
    assert download.value.suggested_filename.endswith(".csv")

    page.reload()
    expect(page.get_by_role("searchbox", name="Search")).to_have_value("incidents")
    expect(rows).to_have_count(1)
    page.get_by_role("link", name="Clear filters").click()
    expect(rows.filter(has_text="Make onboarding effortless for new teams")).to_have_count(1)
    assert org.slug in page.url
