"""A real Celery worker against the real Redis broker and the test database: an invitation email round trip."""

import os
import subprocess
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction

from accounts import services
from accounts.models import Invitation, OutboxMessage, Role
from accounts.tasks import send_invitation_email

ROOT = Path(__file__).resolve().parent.parent
QUEUE = "celery"


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _wait_for(predicate, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


@pytest.fixture
def broker():
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(QUEUE)  # our own Redis db: drop messages left by an aborted earlier run
    yield client
    client.delete(QUEUE)


@pytest.fixture
def worker(transactional_db, broker, tmp_path):
    """`celery worker` in a subprocess, on the pytest test database and the same Redis."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "okrapp.settings_test",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    log_path = tmp_path / "worker.log"
    log = log_path.open("w+")
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/celery"), "-A", "okrapp", "worker", "--pool=solo", "-Q", QUEUE, "-c", "1",
         "--without-heartbeat", "--without-mingle", "--without-gossip", "-l", "INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    process.log_path = log_path
    yield process
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
    log.seek(0)
    output = log.read()
    log.close()
    assert "Traceback" not in output, output


def _tasks_succeeded(worker) -> int:
    """How many send_invitation_email runs the worker logged as finished."""
    log = worker.log_path.read_text()
    return sum(1 for line in log.splitlines() if "accounts.send_invitation_email[" in line and "succeeded" in line)


def test_worker_sends_the_invitation_email_once(worker, admin):
    with transaction.atomic():
        invitation, token = services.invitation_send(actor=admin, email="worker@x.test", role=Role.MEMBER)
    # Enqueued on commit, picked up by the worker, which writes the outbox row and stamps the invitation.
    _wait_for(
        lambda: Invitation.objects.filter(pk=invitation.pk, email_sent_at__isnull=False).exists(),
        what="the worker to send the invitation email",
    )
    message = OutboxMessage.objects.get(to="worker@x.test")
    assert f"/invitations/{token}/" in message.body
    assert worker.poll() is None  # still running
    _wait_for(lambda: _tasks_succeeded(worker) == 1, what="the worker to log the task as finished")

    # A redelivered message (acks_late + a lost worker) is a no-op.
    send_invitation_email.delay(admin.organization_id, invitation.id, token)
    _wait_for(lambda: _tasks_succeeded(worker) == 2, what="the worker to run the duplicate message")
    assert OutboxMessage.objects.filter(to="worker@x.test").count() == 1
