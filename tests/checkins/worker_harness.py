"""A local SMTP sink (aiosmtpd) and a real Celery worker subprocess for the nudge pipeline tests and bench."""

from __future__ import annotations

import email
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SinkHandler:
    def __init__(self):
        self.messages: list[tuple[list[str], bytes]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 Message accepted for delivery"


class SmtpSink:
    """aiosmtpd in a thread; `.messages` are (recipients, raw bytes) in arrival order."""

    def __init__(self):
        self.handler = SinkHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    @property
    def messages(self):
        with self.handler.lock:
            return list(self.handler.messages)

    def count(self) -> int:
        with self.handler.lock:
            return len(self.handler.messages)

    def by_recipient(self) -> Counter:
        return Counter(r for rcpts, _ in self.messages for r in rcpts)

    def parsed(self):
        return [email.message_from_bytes(raw) for _, raw in self.messages]

    def wait_for(self, n: int, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.count() < n:
            time.sleep(0.05)
        return self.count()


class CeleryWorker:
    """`celery -A okrapp worker --pool=prefork -c 2 -Q celery` in its own process group (so kill -9 takes it all).

    `pool`/`concurrency` are for the bench (bench/nudges.py --pool threads); the tests use the defaults."""

    def __init__(
        self,
        *,
        database_url: str,
        redis_url: str,
        email_url: str,
        concurrency: int = 2,
        pool: str = "prefork",
        extra_env=None,
    ):
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "okrapp.settings_test",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "EMAIL_URL": email_url,
            "CONN_MAX_AGE": "0",
            **(extra_env or {}),
        }
        self.concurrency = concurrency
        self.pool = pool
        self.proc: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(prefix="celery-worker-", suffix=".log", delete=False)  # noqa: SIM115

    def start(self):
        cmd = [
            str(ROOT / ".venv/bin/celery"),
            "-A",
            "okrapp",
            "worker",
            f"--pool={self.pool}",
            f"-c{self.concurrency}",
            "-Q",
            "celery",
            "--loglevel=INFO",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
        ]
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    def kill9(self):
        """SIGKILL the whole worker (main process and its pool children) at once."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")[-5000:]


def purge_broker():
    """Empty our Redis db's queues (this helper's own db only; never FLUSHALL)."""
    from okrapp.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.client.flushdb()
