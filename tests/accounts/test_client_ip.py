"""The client address behind reverse proxies (TRUSTED_PROXY_COUNT): the audit log reads the entry the outermost
trusted proxy appended, never what the client put in X-Forwarded-For itself."""

import pytest
from django.test import RequestFactory, override_settings

from accounts.audit import client_ip
from accounts.models import AuditEvent

rf = RequestFactory()


def _request(xff: str | None = None, remote: str = "10.0.0.9"):
    extra = {"REMOTE_ADDR": remote}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return rf.get("/", **extra)


@override_settings(TRUSTED_PROXY_COUNT=0)
def test_direct_exposure_ignores_a_forged_header():
    assert client_ip(_request("6.6.6.6")) == "10.0.0.9"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_one_proxy_takes_the_entry_it_appended():
    assert client_ip(_request("6.6.6.6, 203.0.113.7")) == "203.0.113.7"
    assert client_ip(_request("203.0.113.7")) == "203.0.113.7"
    assert client_ip(_request("2001:db8::1")) == "2001:db8::1"


@override_settings(TRUSTED_PROXY_COUNT=2)
def test_two_proxies_skip_the_inner_one():
    assert client_ip(_request("6.6.6.6, 203.0.113.7, 10.1.1.1")) == "203.0.113.7"


@override_settings(TRUSTED_PROXY_COUNT=2)
def test_missing_short_or_garbage_header_falls_back_to_the_socket():
    assert client_ip(_request()) == "10.0.0.9"
    assert client_ip(_request("203.0.113.7")) == "10.0.0.9"
    assert client_ip(_request("not-an-ip, 10.1.1.1")) == "10.0.0.9"


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=1, ALLAUTH_TRUSTED_PROXY_COUNT=1)
def test_failed_login_is_audited_with_the_forwarded_address(client):
    client.post(
        "/accounts/login/",
        {"login": "nobody@example.com", "password": "wrong-password-1"},
        HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.23",
    )
    event = AuditEvent.objects.get(verb="auth.login_failed")
    assert event.ip == "198.51.100.23"
