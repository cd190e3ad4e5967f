"""Idempotency-Key for the API's POSTs: a script that retries after a timeout must not create a second objective or
record a second check-in.

A POST under /api/ carrying `Idempotency-Key: <up to 255 printable characters>` is run once per caller and key. A
successful (2xx) response is kept for 24 hours and replayed to a retry with the same key and the same body, marked
`Idempotent-Replayed: true`; the same key with another body is then a 422 (the script has a bug). A retry that
arrives while the first request is still running is a 409 (try again shortly). Errors are not kept: a request
refused with a 4xx can be corrected and sent again with the same key, and one that failed with a 5xx runs again.
Callers are told apart by their credentials (a hash of the Authorization header or the session cookie), so one
caller's key never replays another's response.
"""

from __future__ import annotations

import hashlib
import re

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

HEADER = "Idempotency-Key"
KEEP_FOR = 24 * 60 * 60  # seconds a response is replayed
RUNNING_FOR = 60  # seconds a key is held by a request still running (a crashed one frees it after this)
_VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def _caller(request: HttpRequest) -> str | None:
    credentials = request.META.get("HTTP_AUTHORIZATION") or request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    return hashlib.sha256(credentials.encode("utf-8", "surrogatepass")).hexdigest() if credentials else None


def _error(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if key is None or request.method != "POST" or not request.path.startswith("/api/"):
            return self.get_response(request)
        if not _VALID_KEY.fullmatch(key):
            return _error(400, f"{HEADER} must be 1 to 255 visible ASCII characters.")
        caller = _caller(request)
        if caller is None:
            return self.get_response(request)  # unauthenticated: the API answers 401 anyway
        scope = hashlib.sha256(f"{caller}\n{request.path}\n{key}".encode()).hexdigest()
        stored_key, running_key = f"idem:{scope}", f"idem:{scope}:running"
        try:
            fingerprint = hashlib.sha256(request.body).hexdigest()
        except RequestDataTooBig:
            return self.get_response(request)  # refused by the API's own error handling, nothing to keep
        stored = cache.get(stored_key)
        if stored is not None:
            return self._replay(stored, fingerprint)
        if not cache.add(running_key, fingerprint, RUNNING_FOR):
            return _error(409, f"A request with this {HEADER} is still running; retry in a moment.")
        try:
            response = self.get_response(request)
            if 200 <= response.status_code < 300 and not response.streaming:
                cache.set(
                    stored_key,
                    {
                        "fingerprint": fingerprint,
                        "status": response.status_code,
                        "content_type": response.get("Content-Type", "application/json"),
                        "body": response.content.decode("utf-8", "surrogateescape"),
                        "location": response.get("Location"),
                    },
                    KEEP_FOR,
                )
            return response
        finally:
            cache.delete(running_key)

    @staticmethod
    def _replay(stored: dict, fingerprint: str) -> HttpResponse:
        if stored["fingerprint"] != fingerprint:
            return _error(422, f"This {HEADER} was used with a different request body; use a new key.")
        response = HttpResponse(
            stored["body"].encode("utf-8", "surrogateescape"),
            status=stored["status"],
            content_type=stored["content_type"],
        )
        if stored["location"]:
            response["Location"] = stored["location"]
        response["Idempotent-Replayed"] = "true"
        return response


__all__ = ["HEADER", "IdempotencyMiddleware"]
