"""Every account page in a real browser, desktop and phone width: no horizontal overflow, no console errors
(a CSP violation or a broken script shows up there), one h1, and keyboard focus that can be seen.

Set E2E_SCREENSHOT_DIR=/some/dir to keep a full-page screenshot of each page for a visual review.
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from accounts.services import api_token_create, invitation_send, team_save
from tests.e2e.conftest import DESKTOP, MOBILE, login
from tests.factories import MembershipFactory, OrganizationFactory, verified_email

PASSWORD = "correct-horse-battery"
SCREENSHOT_DIR = os.environ.get("E2E_SCREENSHOT_DIR")


@pytest.fixture
def acme_admin(db):
    org = OrganizationFactory(name="Acme Rockets", slug="acme-rockets")
    owner = MembershipFactory(organization=org, role=Role.OWNER, user__email="ada@acme.test", user__name="Ada Lovelace")
    verified_email(owner.user)
    mates = [
        MembershipFactory(
            organization=org, role=role, user__email=f"{name.split()[0].lower()}@acme.test", user__name=name
        )
        for name, role in [("Grace Hopper", Role.ADMIN), ("Linus Torvalds", Role.MEMBER), ("Ken Thompson", Role.VIEWER)]
    ]
    invitation_send(actor=owner, email="new.hire@acme.test", role=Role.MEMBER)
    team = team_save(actor=owner, name="Platform", lead=mates[0], members=mates[:2], parent=None)
    api_token_create(actor=owner, name="CI metrics push")
    return owner, team


def _check_page(page, name: str, viewport_name: str) -> None:
    if SCREENSHOT_DIR:
        Path(SCREENSHOT_DIR).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SCREENSHOT_DIR}/{name}-{viewport_name}.png", full_page=True)
    width = page.viewport_size["width"]
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width, f"{name} overflows horizontally at {width}px ({overflow}px wide)"
    expect(page.locator("h1")).to_have_count(1)


@pytest.mark.parametrize("viewport_name", ["desktop", "mobile"])
def test_account_pages_render_cleanly(chromium_context_factory, live_server, acme_admin, viewport_name):
    owner, team = acme_admin
    page = chromium_context_factory(DESKTOP if viewport_name == "desktop" else MOBILE)
    errors = []
    page.on("console", lambda msg: errors.append((msg.text, msg.location.get("url"))) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    for name, path in [
        ("login", "/accounts/login/"),
        ("signup", "/accounts/signup/"),
        ("password-reset", "/accounts/password/reset/"),
    ]:
        page.goto(f"{live_server.url}{path}")
        _check_page(page, name, viewport_name)

    # Inline errors on the allauth form: a wrong password is reported next to the form, not as a 500.
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", "ada@acme.test")
    page.fill("input[name=password]", "wrong-password")
    page.click("main form button[type=submit]")
    expect(page.locator("main .errorlist, main [role=alert]").first).to_be_visible()
    _check_page(page, "login-error", viewport_name)

    login(page, live_server, "ada@acme.test", PASSWORD)
    base = f"{live_server.url}/o/acme-rockets"
    pages = [
        ("dashboard", "/"),
        ("people", "/people/"),
        ("teams", "/teams/"),
        ("team-detail", f"/teams/{team.public_id}/"),
        ("audit", "/audit/"),
        ("settings", "/settings/me/"),
    ]
    pages = [(name, f"{base}{path}") for name, path in pages] + [
        ("org-create", f"{live_server.url}/orgs/new/"),
        ("email-addresses", f"{live_server.url}/accounts/email/"),
        ("password-change", f"{live_server.url}/accounts/password/change/"),
        ("logout", f"{live_server.url}/accounts/logout/"),
    ]
    for name, url in pages:
        response = page.goto(url)
        assert response.status == 200, (name, response.status)
        _check_page(page, name, viewport_name)

    page.goto(f"{base}/tokens/")
    page.fill("input[name=name]", "Grafana")
    page.click("main form button[type=submit]")
    expect(page.get_by_test_id("new-token")).to_be_visible()
    _check_page(page, "tokens", viewport_name)

    response = page.goto(f"{live_server.url}/o/not-an-org/")
    assert response.status == 404
    _check_page(page, "404", viewport_name)

    # Keyboard focus is visible: the first Tab stop (skip link) gets an outline and comes into view.
    page.goto(f"{base}/")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "(() => { const el = document.activeElement; const s = getComputedStyle(el);"
        " return {text: el.textContent.trim(), outline: s.outlineStyle, left: el.getBoundingClientRect().left}; })()"
    )
    assert focused["text"] == "Skip to content"
    assert focused["outline"] != "none" and focused["left"] >= 0, focused

    # The one expected error: the browser logs the deliberate 404 document load.
    errors = [e for e in errors if not (e[1] or "").endswith("/o/not-an-org/")]
    assert errors == [], errors
