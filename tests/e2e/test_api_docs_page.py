"""/api/docs/ (Redoc, served from our static files) loads under our CSP without a console error: its search worker
is a blob: URL (allowed on this page) and the Redocly logo it would fetch from a CDN is not requested."""

from playwright.sync_api import expect


def test_api_docs_render_without_console_errors(chromium_page, live_server):
    page = chromium_page
    errors, requests = [], []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.get_by_role("heading", name="okrapp API", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="API docs by Redocly")).to_be_visible()
    page.get_by_placeholder("Search...").fill("objectives")  # the search index lives in the blob: worker
    expect(page.locator("[role=search] ~ * li, [data-role='search:results'] li").first).to_be_visible()
    page.wait_for_timeout(300)
    assert errors == []
    assert all(url.startswith(live_server.url) or url.startswith(("blob:", "data:")) for url in requests), requests
