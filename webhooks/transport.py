"""The HTTP side of outbound webhooks: URL rules, the SSRF guard and one POST. No Django models here.

SSRF guard (a webhook URL is chosen by a customer, the request is made from inside our network):
- at save time (`url_problem`): https only, no credentials in the URL, no literal non-public IP, no localhost names;
- at send time (`post`): the host is resolved and *every* address must be public (not loopback, private,
  link-local, shared/CGNAT, multicast, reserved or documentation ranges, also when embedded in IPv6); the
  connection then goes to the checked address itself (no second DNS lookup that could answer differently:
  DNS rebinding), with the URL's host name kept for the Host header, SNI and certificate verification;
- redirects are never followed, proxies from the environment are ignored.
`allow_private=True` (settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS: DEBUG and tests only) lifts the address rules and
allows http://, so tests can post to a server on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

TIMEOUT = (5, 10)  # connect, read (seconds)
MAX_URL_LENGTH = 500
MAX_RETRY_AFTER = 24 * 60 * 60
RESPONSE_EXCERPT = 500  # characters of the response body kept for the delivery log
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass
class Outcome:
    """What one POST came to. delivered: 2xx. retryable: 429, 5xx, timeouts, connection and DNS errors."""

    delivered: bool
    retryable: bool = False
    status_code: int | None = None
    error: str = ""
    retry_after: int | None = None
    response_excerpt: str = ""
    duration_ms: int = 0


def is_public_address(ip: IPAddress) -> bool:
    """Only globally routable unicast addresses; IPv4 embedded in IPv6 (mapped, 6to4, Teredo, NAT64) is unwrapped."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public_address(embedded)
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_loopback)


def url_problem(url: str, *, allow_private: bool) -> str | None:
    """Why this URL cannot be a webhook endpoint (a sentence for the form), or None when it can."""
    if len(url) > MAX_URL_LENGTH:
        return f"Use at most {MAX_URL_LENGTH} characters."
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "Enter a valid URL."
    if parts.scheme != "https" and not (parts.scheme == "http" and allow_private):
        return "The URL must start with https://."
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return "Enter a full URL with a host name."
    if parts.username is not None or parts.password is not None:
        return "Leave credentials out of the URL; receivers verify requests with the signing secret."
    if port == 0:
        return "Enter a valid port."
    if allow_private:
        return None
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        if host in _LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES) or "." not in host:
            return "Use a public host name; internal and local hosts are not reachable for webhooks."
        return None
    if not is_public_address(ip):
        return "Use a public address; private, loopback and link-local addresses are not allowed."
    return None


class _PinnedAdapter(HTTPAdapter):
    """TLS to a pinned IP address, with SNI and certificate checks against the URL's host name."""

    def __init__(self, server_hostname: str):
        self._server_hostname = server_hostname
        super().__init__(max_retries=0)

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        pool_kwargs["server_hostname"] = self._server_hostname
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)


def _resolve(host: str, port: int) -> list[IPAddress]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[IPAddress] = []
    for *_, sockaddr in infos:
        ip = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if ip not in seen:
            seen.append(ip)
    return seen


def retry_after_seconds(value: str | None) -> int | None:
    """Retry-After as seconds (delta-seconds or an HTTP date), capped at a day; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = int(value)
    else:
        try:
            seconds = int(parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError, OverflowError):
            return None
    return max(0, min(seconds, MAX_RETRY_AFTER))


def post(*, url: str, body: bytes, headers: dict[str, str], allow_private: bool, timeout=TIMEOUT) -> Outcome:
    """POST `body` to `url` once, within the SSRF rules above. Never raises for network problems."""
    problem = url_problem(url, allow_private=allow_private)
    if problem:
        return Outcome(delivered=False, error=f"Refused: {problem}")
    parts = urlsplit(url)
    host = parts.hostname.rstrip(".")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = _resolve(host, port)
    except (OSError, UnicodeError) as exc:
        return Outcome(delivered=False, retryable=True, error=f"DNS lookup of {host} failed: {exc}"[:300])
    if not allow_private:
        blocked = [ip for ip in addresses if not is_public_address(ip)]
        if blocked:
            return Outcome(delivered=False, error=f"Refused: {host} resolves to a non-public address ({blocked[0]}).")
    if not addresses:
        return Outcome(delivered=False, retryable=True, error=f"DNS lookup of {host} returned no address.")
    ip = addresses[0]
    netloc = f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}"
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    session = requests.Session()
    session.trust_env = False  # no HTTP(S)_PROXY from the environment: it would bypass the address checks
    session.mount("https://", _PinnedAdapter(server_hostname=host))
    session.mount("http://", HTTPAdapter(max_retries=0))
    started = time.monotonic()
    try:
        response = session.post(
            pinned,
            data=body,
            headers={**headers, "Host": parts.netloc},
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        )
        try:
            excerpt = response.raw.read(RESPONSE_EXCERPT * 4, decode_content=True) or b""
        except Exception:  # noqa: BLE001 - a broken body does not change the status we got
            excerpt = b""
        finally:
            response.close()
    except requests.Timeout:
        return _failed(started, "Timed out waiting for the endpoint.")
    except requests.exceptions.SSLError as exc:
        return _failed(started, f"TLS error: {exc.__class__.__name__}")
    except requests.ConnectionError:
        return _failed(started, f"Could not connect to {host}:{port}.")
    except requests.RequestException as exc:
        return _failed(started, f"Request failed: {exc.__class__.__name__}")
    finally:
        session.close()
    return _classify(response, excerpt.decode("utf-8", "replace")[:RESPONSE_EXCERPT], started)


def _failed(started: float, error: str) -> Outcome:
    return Outcome(delivered=False, retryable=True, error=error, duration_ms=_ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _classify(response: requests.Response, excerpt: str, started: float) -> Outcome:
    code = response.status_code
    common = {"status_code": code, "response_excerpt": excerpt, "duration_ms": _ms(started)}
    if 200 <= code < 300:
        return Outcome(delivered=True, **common)
    if code == 429 or code >= 500:
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        return Outcome(delivered=False, retryable=True, error=f"HTTP {code}", retry_after=retry_after, **common)
    if 300 <= code < 400:
        return Outcome(delivered=False, error=f"HTTP {code}: redirects are not followed; use the final URL.", **common)
    return Outcome(delivered=False, error=f"HTTP {code}", **common)
