"""A real local HTTP receiver for webhook deliveries, and builders for endpoints and check-ins."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from accounts.models import Role
from tests.checkins.checkin_helpers import make_kr
from tests.factories import MembershipFactory
from webhooks.models import SUBSCRIBABLE_EVENTS
from webhooks.services import webhook_endpoint_create

ALL_EVENTS = [value for value, _ in SUBSCRIBABLE_EVENTS]


def verify(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """The receiver-side check exactly as the webhook page documents it (independent of webhooks.signing)."""
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    t = next((v for k, v in parts if k == "t"), "")
    if not t.isdigit() or abs(time.time() - int(t)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, v) for k, v in parts if k == "v1")


class Receiver:
    """A threaded HTTP server on 127.0.0.1. Answers a scripted list of (status, headers, delay) then 200; records
    every request (headers, raw body, parsed JSON)."""

    def __init__(self):
        self.script: list[tuple[int, dict, float]] = []
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.requests.append(
                        {
                            "path": self.path,
                            "headers": dict(self.headers.items()),
                            "body": body,
                            "json": json.loads(body),
                        }
                    )
                    status, headers, delay = receiver.script.pop(0) if receiver.script else (200, {}, 0)
                if delay:
                    time.sleep(delay)
                payload = b"ok" if status < 300 else b"nope"
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}/hooks/okrapp"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, *statuses, headers=None, delay=0.0):
        """Queue answers: each status once, in order (then 200 for good)."""
        self.script.extend((status, headers or {}, delay) for status in statuses)
        return self

    def wait_for(self, n: int, timeout: float = 20) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.requests) < n:
            time.sleep(0.05)
        return len(self.requests)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def make_endpoint(admin, django_capture_on_commit_callbacks):
    """make_endpoint(url, events=ALL_EVENTS) → an endpoint of `admin`'s org, created through the service (and its
    after-commit work run, as a real commit would)."""

    def make(url, events=None, *, org=None, actor=None, **kwargs):
        actor = actor or (admin if org is None else MembershipFactory(organization=org, role=Role.ADMIN))
        with django_capture_on_commit_callbacks(execute=True):
            return webhook_endpoint_create(
                org=actor.organization, actor=actor, url=url, events=events or ALL_EVENTS, **kwargs
            )

    return make


@pytest.fixture
def kr(member):
    """An active KR owned by `member` (increase 0 → 100, current 50)."""
    return make_kr(member, baseline=0, target=100, current=50)


@pytest.fixture
def eager_celery():
    """Run enqueued tasks inline, for this test only (never globally, STYLE.md c.10)."""
    from okrapp.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _purge_webhook_queue():
    """Retries are published with a countdown to this helper's own Redis db; drop them after each test."""
    yield
    from okrapp.celery import app

    with app.connection_for_write() as conn:
        for queue in ("integrations", "celery"):
            conn.default_channel.queue_purge(queue)
