"""The cycle board's filter form stays in step with the board and the URL: after filtering twice in-page and going
Back, the controls show the filters of the board on screen (htmx's history restore does not keep control values);
Clear filters is part of the swapped board, so it appears after in-page filtering and in the "nothing matches" state.
"""

import re

from playwright.sync_api import expect

from accounts.demo import DEMO_PASSWORD, seed_demo_people
from objectives.demo import seed_demo_okrs
from tests.e2e.conftest import login


def _open_board(page, live_server):
    org, people, teams = seed_demo_people()
    seed_demo_okrs(org=org, people=people, teams=teams)
    login(page, live_server, "demo@okrapp.local", DEMO_PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="OKRs").click()
    expect(page.get_by_test_id("objective-row").first).to_be_visible()
    return teams


def test_back_restores_the_filter_controls_with_the_board(chromium_page, live_server):
    page = chromium_page
    teams = _open_board(page, live_server)
    team = page.locator("form[data-board-filters] select[name=team]")
    clear = page.get_by_role("link", name="Clear filters")
    expect(clear).to_have_count(0)

    team.select_option(label="Platform")
    expect(page).to_have_url(re.compile(rf"team={teams['Platform'].public_id}"))
    expect(clear).to_have_count(1)  # the board swapped in with its Clear filters link, no page load
    team.select_option(label="Growth")
    expect(page).to_have_url(re.compile(rf"team={teams['Growth'].public_id}"))

    page.go_back()
    expect(page).to_have_url(re.compile(rf"team={teams['Platform'].public_id}"))
    expect(team).to_have_value(str(teams["Platform"].public_id))
    page.go_forward()
    expect(page).to_have_url(re.compile(rf"team={teams['Growth'].public_id}"))
    expect(team).to_have_value(str(teams["Growth"].public_id))

    search = page.get_by_role("searchbox", name="Search")
    team.select_option(label="All teams")
    expect(page).to_have_url(re.compile(r"[?&]team=(&|$)"))
    search.fill("NPS")
    expect(page).to_have_url(re.compile(r"[?&]q=NPS"))
    search.fill("")
    search.press_sequentially("zzz-no-such-objective", delay=10)
    expect(page.get_by_role("heading", name="Nothing matches these filters")).to_be_visible()
    page.go_back()
    expect(page).to_have_url(re.compile(r"[?&]q=NPS(&|$)"))
    expect(search).to_have_value("NPS")
    expect(team).to_have_value("")


def test_nothing_matches_offers_clear_filters(chromium_page, live_server):
    page = chromium_page
    _open_board(page, live_server)
    page.get_by_role("searchbox", name="Search").press_sequentially("zzz-no-such-objective", delay=10)
    empty = page.locator(".card.empty")
    expect(empty.get_by_role("heading", name="Nothing matches these filters")).to_be_visible()
    empty.get_by_role("link", name="Clear filters").click()
    expect(page.get_by_test_id("objective-row").first).to_be_visible()
    expect(page.get_by_role("searchbox", name="Search")).to_have_value("")
    expect(page.get_by_role("link", name="Clear filters")).to_have_count(0)
