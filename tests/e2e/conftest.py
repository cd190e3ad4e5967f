"""Browser end-to-end fixtures: Debian Chromium driven by Playwright against pytest-django's live_server.

Fixtures and helpers for every test in tests/e2e/:

- ``chromium_browser`` (session): one headless Chromium for the whole run. When /usr/bin/chromium is missing the
  tests FAIL with an install hint; browser tests are never skipped.
- ``chromium_page``: a fresh browser context (cookies, storage) per test, 1280×900, default timeout 10 s, with
  ``base_url`` set to the live server. A failing test leaves a full-page screenshot in ``test-results/``.
- ``new_page()`` (fixture ``chromium_context_factory``): extra isolated pages for a second user in the same test;
  keyword arguments go to the browser context (``timezone_id="Europe/Berlin"``, ``locale=…``).
- ``login(page, live_server, email, password)``: signs in through the real allauth form.
- ``logout(page, live_server)``: signs out through the user menu's form.
- ``outbox_link(page, live_server, contains=...)``: the first link of the newest dev-outbox email that mentions
  ``contains`` (subject, recipient or body).
- ``screenshot(page, name)``: saves ``$E2E_SCREENSHOT_DIR/<name>-<width>.png`` when that variable is set.

Our fixture names deliberately differ from pytest-playwright's (browser/page/context), whose plugin stays loaded.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

# pytest-django's live_server runs Django in a thread while Playwright's sync API keeps an asyncio loop running in the
# main thread; Django's async-safety guard would refuse ORM calls from the test body without this.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_PATH = os.environ.get(
    "E2E_CHROMIUM_PATH", "/usr/bin/chromium"
)  # Debian's chromium, as `make test` installs it
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEFAULT_TIMEOUT_MS = 10_000
# expect() waits as long as actions do (its own default is 5 s): CI shares two cores with PostgreSQL, Redis, the live
# server and Chromium, and a slow answer there is not a failure of the journey.
expect.set_options(timeout=DEFAULT_TIMEOUT_MS)
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 390, "height": 844}
RESULTS_DIR = Path(__file__).resolve().parents[2] / "test-results"


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item so fixtures can tell whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def chromium_browser():
    if not os.access(CHROMIUM_PATH, os.X_OK):
        pytest.fail(
            f"Browser tests need Debian's Chromium at {CHROMIUM_PATH}, which is missing. "
            "Install it with: sudo apt-get update && sudo apt-get install -y chromium "
            "(`make test` does this itself when run as root).",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _e2e_site(settings, live_server):
    """Emails go to the dev outbox (pytest-django swaps in locmem) and links in them point at the live server.

    Celery tasks (the invitation email, …) run eagerly inside the live server's request, after commit, as a worker
    would run them moments later; the real-worker round trip has its own test outside tests/e2e.
    """
    from okrapp.celery import app as celery_app

    settings.EMAIL_BACKEND = "accounts.mail.OutboxEmailBackend"
    settings.DEV_OUTBOX_ENABLED = True
    settings.SITE_URL = live_server.url
    saved = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = saved


def _safe_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid)[-150:]


@pytest.fixture
def chromium_context_factory(chromium_browser, live_server, request):
    """new_page(viewport=DESKTOP) → a page in a fresh, isolated context; all are closed (and shot on failure)."""
    contexts = []

    def new_page(viewport=None, **options):  # options: Playwright context options, e.g. timezone_id
        context = chromium_browser.new_context(viewport=viewport or DESKTOP, base_url=live_server.url, **options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield new_page

    report = getattr(request.node, "rep_call", None)
    failed = report is not None and report.failed
    for index, context in enumerate(contexts):
        if failed:
            RESULTS_DIR.mkdir(exist_ok=True)
            for page_index, page in enumerate(context.pages):
                path = RESULTS_DIR / f"{_safe_name(request.node.nodeid)}-{index}-{page_index}.png"
                try:
                    page.screenshot(path=str(path), full_page=True)
                except Exception as exc:  # a crashed page must not hide the test's own failure
                    print(f"could not save failure screenshot {path}: {exc}")
                else:
                    print(f"failure screenshot: {path}")
        context.close()


@pytest.fixture
def chromium_page(chromium_context_factory):
    """A desktop-sized page in its own context; screenshot to test-results/ when the test fails."""
    return chromium_context_factory()


def screenshot(page, name: str) -> None:
    """Keep a full-page screenshot for a visual review when E2E_SCREENSHOT_DIR is set (no-op otherwise)."""
    directory = os.environ.get("E2E_SCREENSHOT_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        width = page.viewport_size["width"] if page.viewport_size else 0
        page.screenshot(path=f"{directory}/{name}-{width}.png", full_page=True)


def login(page, live_server, email: str, password: str) -> None:
    """Sign in through the real allauth login form and wait until we have left the login page."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def logout(page, live_server) -> None:
    """Sign out with the POST form of the user menu (allauth's logout needs POST)."""
    page.goto(f"{live_server.url}/accounts/logout/")
    page.click("main form button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/logout/" not in url)


def outbox_link(page, live_server, contains: str) -> str:
    """The first link in the newest dev-outbox email whose text contains `contains`; fails clearly if none."""
    page.goto(f"{live_server.url}/dev/outbox/")
    messages = page.locator("[data-testid=outbox-message]").filter(has_text=contains)
    if messages.count() == 0:
        subjects = page.locator("[data-testid=outbox-message] strong").all_inner_texts()
        pytest.fail(f"No email in the dev outbox mentions {contains!r}; outbox subjects: {subjects}")
    link = messages.first.locator("a[href]").first
    if link.count() == 0:
        pytest.fail(f"The newest email mentioning {contains!r} has no link")
    return link.get_attribute("href")
