"""The claim journal with a REAL Celery worker, real Redis and a local SMTP server: batches claimed by the dispatcher
but lost before any task wrote their receipts are swept and delivered exactly once (checkins/nudge_dispatch.py)."""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from checkins.models import CheckinNudge, NudgeClaim
from checkins.nudge_dispatch import RESEND_AFTER, nudges_dispatch
from okrapp.celery import app
from tests.checkins.test_worker_integration import bulk_due_members
from tests.checkins.worker_harness import CeleryWorker, SmtpSink, purge_broker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sink():
    with SmtpSink() as s:
        yield s


@pytest.fixture
def start_worker(sink):
    purge_broker()
    s = connection.settings_dict
    worker = CeleryWorker(
        database_url=f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}",
        redis_url=settings.CELERY_BROKER_URL,
        email_url=f"smtp://127.0.0.1:{sink.port}",
    )
    yield worker.start
    worker.stop()
    purge_broker()


def test_claimed_batches_lost_before_their_receipts_are_swept_and_delivered_once(sink, start_worker):
    n = 600
    org, members = bulk_due_members(n, prefix="lost")
    result = nudges_dispatch()  # no worker yet: the two published batches wait in Redis
    assert (result.claimed, result.receipts, [len(b) for b in result.batches]) == (n, n, [500, 100])
    purge_broker()  # ... and are lost (broker failure, or the dispatcher died between its commit and the publish)
    assert not CheckinNudge.objects.exists()
    assert sorted(c.pk for c in NudgeClaim.objects.all()) == [b[0] for b in result.batches]
    start_worker()
    assert nudges_dispatch().swept == 0  # too early: a queued batch may just be waiting
    swept = nudges_dispatch(now=timezone.now() + RESEND_AFTER + timedelta(seconds=5))
    assert swept.swept == n and sorted(swept.batches) == sorted(result.batches)
    assert sink.wait_for(n, timeout=60) == n
    # The lost messages turn up after all (e.g. restored by the broker): they find the receipts stamped.
    for batch in result.batches:
        app.send_task("checkins.send_nudge_batch", args=(batch,))
    time.sleep(3)
    assert sink.count() == n
    assert sink.by_recipient() == {m.user.email: 1 for m in members}
    assert sorted(CheckinNudge.objects.values_list("pk", flat=True)) == sorted(i for b in result.batches for i in b)
    assert not CheckinNudge.objects.filter(sent_at=None).exists() and not NudgeClaim.objects.exists()
