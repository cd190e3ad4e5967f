"""The HTTP side: URL rules at save time, the SSRF guard at send time, signatures, no redirects, timeouts."""

import ipaddress
import socket
import time

import pytest

from tests.checkins.worker_harness import free_port
from tests.webhooks.conftest import verify
from webhooks import transport
from webhooks.signing import compute_signature, generate_secret, signature_header, verify_signature


# --- Signatures -------------------------------------------------------------------------------------------------------
def test_signature_is_hmac_sha256_of_timestamp_dot_body_and_verifies_within_tolerance():
    secret, body, t = generate_secret(), b'{"id":"1"}', int(time.time())
    header = signature_header([secret], t, body)
    assert header == f"t={t},v1={compute_signature(secret, t, body)}"
    assert verify_signature(secret=secret, header=header, body=body)
    assert verify(secret, header, body)  # the documented receiver code agrees
    assert not verify_signature(secret=secret, header=header, body=body + b" ")
    assert not verify_signature(secret=generate_secret(), header=header, body=body)
    assert not verify_signature(secret=secret, header=header, body=body, now=t + 301)  # replay after 5 minutes
    assert verify_signature(secret=secret, header=header, body=body, now=t + 299)
    assert not verify_signature(secret=secret, header="v1=abc", body=body)


def test_during_a_rotation_either_secret_verifies():
    old, new, body, t = generate_secret(), generate_secret(), b"{}", int(time.time())
    header = signature_header([new, old], t, body)
    assert header.count("v1=") == 2
    assert verify_signature(secret=new, header=header, body=body)
    assert verify_signature(secret=old, header=header, body=body)


# --- URL rules (save time) --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://hooks.example.com/okrapp", None),
        ("https://hooks.example.com:8443/x?y=1", None),
        ("https://93.184.216.34/x", None),
        ("http://hooks.example.com/x", "https://"),
        ("ftp://hooks.example.com/x", "https://"),
        ("https:///nohost", "host name"),
        ("https://user:pw@hooks.example.com/x", "credentials"),
        ("https://localhost/x", "public host"),
        ("https://app.localhost/x", "public host"),
        ("https://metadata.internal/x", "public host"),
        ("https://intranet/x", "public host"),
        ("https://127.0.0.1/x", "public address"),
        ("https://10.1.2.3/x", "public address"),
        ("https://169.254.169.254/latest/meta-data", "public address"),
        ("https://[::1]/x", "public address"),
        ("https://[::ffff:10.0.0.1]/x", "public address"),
        ("https://hooks.example.com:99999/x", "valid URL"),
        ("https://example.com/" + "a" * 500, "500 characters"),
    ],
)
def test_url_rules_without_private_hosts(url, problem):
    result = transport.url_problem(url, allow_private=False)
    if problem is None:
        assert result is None
    else:
        assert problem in result


def test_private_hosts_and_http_only_with_the_setting():
    assert transport.url_problem("http://127.0.0.1:8000/x", allow_private=True) is None
    assert "credentials" in transport.url_problem("http://u:p@127.0.0.1/x", allow_private=True)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),  # shared address space (CGNAT)
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("192.0.2.1", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:8.8.8.8", True),
        ("2002:7f00:1::", False),  # 6to4 around 127.0.0.1
        ("64:ff9b::a00:1", False),  # NAT64 around 10.0.0.1
    ],
)
def test_public_address_rules(address, public):
    assert transport.is_public_address(ipaddress.ip_address(address)) is public


# --- Send time --------------------------------------------------------------------------------------------------------
@pytest.fixture
def fake_dns(monkeypatch):
    """Answer getaddrinfo for chosen names (the system resolver is outside our code)."""
    answers: dict[str, str] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def test_a_public_name_that_resolves_to_a_private_address_is_refused_without_connecting(receiver, fake_dns):
    fake_dns["hooks.customer.example"] = "127.0.0.1"
    outcome = transport.post(
        url=f"https://hooks.customer.example:{receiver.port}/x", body=b"{}", headers={}, allow_private=False
    )
    assert not outcome.delivered and not outcome.retryable
    assert "non-public address (127.0.0.1)" in outcome.error
    assert receiver.requests == []


def test_the_connection_goes_to_the_checked_address_with_the_original_host_header(receiver, fake_dns):
    fake_dns["hooks.customer.example"] = "127.0.0.1"
    outcome = transport.post(
        url=f"http://hooks.customer.example:{receiver.port}/in?x=1", body=b"{}", headers={}, allow_private=True
    )
    assert outcome.delivered and outcome.status_code == 200
    (request,) = receiver.requests
    assert request["headers"]["Host"] == f"hooks.customer.example:{receiver.port}"
    assert request["path"] == "/in?x=1"


def test_a_literal_private_address_is_refused_at_send_time_too(receiver):
    outcome = transport.post(url=receiver.url, body=b"{}", headers={}, allow_private=False)
    assert not outcome.delivered and not outcome.retryable and outcome.error.startswith("Refused")
    assert receiver.requests == []


def test_redirects_are_not_followed(receiver):
    other = f"http://127.0.0.1:{receiver.port}/elsewhere"
    receiver.answer(302, headers={"Location": other})
    outcome = transport.post(url=receiver.url, body=b"{}", headers={}, allow_private=True)
    assert not outcome.delivered and not outcome.retryable and outcome.status_code == 302
    assert "redirects are not followed" in outcome.error
    assert [r["path"] for r in receiver.requests] == ["/hooks/okrapp"]


def test_a_slow_endpoint_times_out_and_is_retryable(receiver):
    receiver.answer(200, delay=1.5)
    started = time.monotonic()
    outcome = transport.post(url=receiver.url, body=b"{}", headers={}, allow_private=True, timeout=(1, 0.3))
    assert time.monotonic() - started < 1.4
    assert not outcome.delivered and outcome.retryable and "Timed out" in outcome.error


def test_connection_refused_is_retryable():
    outcome = transport.post(url=f"http://127.0.0.1:{free_port()}/x", body=b"{}", headers={}, allow_private=True)
    assert not outcome.delivered and outcome.retryable and "Could not connect" in outcome.error


def test_unknown_host_is_retryable():
    outcome = transport.post(url="https://no-such-host.invalid/x", body=b"{}", headers={}, allow_private=False)
    assert not outcome.delivered and outcome.retryable and "DNS lookup" in outcome.error


@pytest.mark.parametrize(
    ("status", "delivered", "retryable"),
    [(200, True, False), (204, True, False), (400, False, False), (410, False, False), (429, False, True)]
    + [(500, False, True), (503, False, True)],
)
def test_status_classes(receiver, status, delivered, retryable):
    receiver.answer(status)
    outcome = transport.post(url=receiver.url, body=b"{}", headers={}, allow_private=True)
    assert (outcome.delivered, outcome.retryable, outcome.status_code) == (delivered, retryable, status)


def test_retry_after_in_seconds_or_as_a_date():
    assert transport.retry_after_seconds("120") == 120
    assert transport.retry_after_seconds(None) is None and transport.retry_after_seconds("soon") is None
    assert transport.retry_after_seconds("999999999") == transport.MAX_RETRY_AFTER
    from email.utils import formatdate

    assert 595 <= transport.retry_after_seconds(formatdate(time.time() + 600, usegmt=True)) <= 600


def test_deploy_check_warns_when_private_hosts_are_allowed_in_production(settings):
    from webhooks.checks import check_webhooks_private_hosts

    settings.DEBUG, settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS = False, True
    assert [w.id for w in check_webhooks_private_hosts(None)] == ["webhooks.W001"]
    settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS = False
    assert check_webhooks_private_hosts(None) == []
