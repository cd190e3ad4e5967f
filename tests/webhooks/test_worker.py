"""Webhooks with a REAL Celery worker (prefork, queues celery + integrations), real Redis and a local receiver:
a committed check-in is delivered, and a worker SIGKILLed in the middle of a send does not lose the delivery."""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from checkins import services as checkin_services
from tests.checkins.worker_harness import ROOT, CeleryWorker, purge_broker
from tests.webhooks.conftest import verify
from webhooks.delivery import webhook_deliveries_sweep
from webhooks.models import Event, WebhookDelivery

pytestmark = pytest.mark.django_db(transaction=True)


class WebhookWorker(CeleryWorker):
    """The nudge tests' worker, consuming the integrations queue too (where webhooks.deliver is routed)."""

    def start(self):
        import subprocess

        cmd = [str(ROOT / ".venv/bin/celery"), "-A", "okrapp", "worker", "--pool=prefork", "-c2"]
        cmd += ["-Q", "celery,integrations", "--loglevel=INFO", "--without-mingle", "--without-gossip"]
        cmd += ["--without-heartbeat"]
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self


@pytest.fixture
def start_worker():
    purge_broker()
    s = connection.settings_dict
    db_url = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    workers = []

    def start():
        w = WebhookWorker(database_url=db_url, redis_url=settings.CELERY_BROKER_URL, email_url="locmem://").start()
        workers.append(w)
        return w

    yield start
    for w in workers:
        w.stop()
    purge_broker()


def wait_until(predicate, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_a_committed_check_in_is_delivered_by_the_worker_and_a_killed_send_is_not_lost(
    member, kr, make_endpoint, receiver, start_worker
):
    endpoint = make_endpoint(receiver.url, [Event.CHECKIN_CREATED])
    worker = start_worker()
    checkin_services.checkin_submit(org=member.organization, actor=member, key_result=kr, value=60)  # commits
    assert receiver.wait_for(1, timeout=60) == 1, worker.output()
    first = WebhookDelivery.objects.get()
    assert wait_until(lambda: WebhookDelivery.objects.get(pk=first.pk).status == "delivered"), worker.output()
    request = receiver.requests[0]
    assert verify(endpoint.secret, request["headers"]["X-Okrapp-Signature"], request["body"])
    assert request["json"]["data"]["key_result"]["current"] == "60"

    # The receiver is slow; the worker dies (SIGKILL, whole process group) while it waits for the answer.
    receiver.answer(200, delay=3)
    checkin_services.checkin_submit(org=member.organization, actor=member, key_result=kr, value=61)
    assert receiver.wait_for(2, timeout=60) == 2, worker.output()
    worker.kill9()
    second = WebhookDelivery.objects.exclude(pk=first.pk).get()
    assert (second.status, second.attempts) == ("pending", 1)  # claimed, answer never recorded
    assert second.leased_until > timezone.now()

    # Time passes: the lease runs out. The beat sweeper hands it to a new worker, which sends it again.
    WebhookDelivery.objects.filter(pk=second.pk).update(
        leased_until=timezone.now(), enqueued_at=timezone.now() - timedelta(hours=1)
    )
    start_worker()
    assert webhook_deliveries_sweep() == 1
    assert receiver.wait_for(3, timeout=60) == 3
    assert wait_until(lambda: WebhookDelivery.objects.get(pk=second.pk).status == "delivered")
    assert WebhookDelivery.objects.get(pk=second.pk).attempts == 2
    # At least once: the receiver saw that delivery twice, under one delivery id it can deduplicate on.
    ids = [r["headers"]["X-Okrapp-Delivery"] for r in receiver.requests]
    assert ids == [str(first.public_id), str(second.public_id), str(second.public_id)]
