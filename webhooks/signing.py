"""Webhook signatures: `X-Okrapp-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.

Pure Python, no Django: receivers can copy `verify_signature` as it is. During a secret rotation the header
carries one v1= per valid secret (new first); a receiver accepts the request when any of them matches.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE = 5 * 60  # seconds; older (or future) timestamps are refused, which stops replays


def generate_secret() -> str:
    """A new signing secret: "whsec_" + 32 random bytes (urlsafe base64). The whole string is the HMAC key."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def compute_signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secrets_: list[str], timestamp: int, body: bytes) -> str:
    return ",".join([f"t={timestamp}", *(f"v1={compute_signature(s, timestamp, body)}" for s in secrets_)])


def verify_signature(
    *, secret: str, header: str, body: bytes, tolerance: int = DEFAULT_TOLERANCE, now: float | None = None
) -> bool:
    """True when `header` signs exactly `body` with `secret` and its timestamp is within `tolerance` of now."""
    timestamp, candidates = None, []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = compute_signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, c) for c in candidates)
