import re


def test_api_docs_load_redoc_from_our_own_static_files(client, db):
    """The docs page must work offline and under our CSP: no CDN scripts, no web fonts from elsewhere."""
    response = client.get("/api/docs/")
    assert response.status_code == 200
    body = response.content.decode()
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', body)
    assert scripts and all(src.startswith("/static/") for src in scripts), scripts
    assert "googleapis" not in body and "cdn." not in body
    assert "<script>" not in body  # no inline script (CSP)


def test_redoc_bundle_is_served(client, db):
    response = client.get("/api/docs/")
    src = re.findall(r'<script[^>]*src="([^"]+)"', response.content.decode())[0]
    bundle = client.get(src)
    assert bundle.status_code == 200
