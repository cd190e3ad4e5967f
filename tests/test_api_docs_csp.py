"""The CSP exception for Redoc's blob: worker is the docs page's own; every other page keeps the site's policy."""

from django.conf import settings


def test_only_the_api_docs_allow_blob_workers(client, db):
    docs = client.get("/api/docs/")
    assert docs["Content-Security-Policy"].startswith(settings.CONTENT_SECURITY_POLICY)
    assert "worker-src 'self' blob:" in docs["Content-Security-Policy"]
    assert "script-src 'self';" in docs["Content-Security-Policy"]  # scripts still from our origin only
    assert client.get("/accounts/login/")["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
