"""Sending against a real local HTTP server: retries with backoff, Retry-After, permanent failures, the SSRF guard at
send time, automatic switch-off, the sweeper (lost enqueues, killed workers), pings, redelivery, rotation."""

import random
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import AuditEvent
from checkins import services as checkin_services
from tests.checkins.worker_harness import free_port
from tests.webhooks.conftest import verify
from webhooks import delivery as sender
from webhooks.delivery import (
    DISABLE_AFTER_FAILURES,
    MAX_ATTEMPTS,
    REQUEUE_AFTER,
    SEND_LEASE,
    retry_delay,
    webhook_deliveries_prune,
    webhook_deliveries_sweep,
    webhook_delivery_send,
)
from webhooks.models import Event, WebhookDelivery, WebhookEndpoint
from webhooks.services import (
    webhook_emit,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
    webhook_ping,
    webhook_redeliver,
)

Status = WebhookDelivery.Status


@pytest.fixture
def endpoint(make_endpoint, receiver):
    return make_endpoint(receiver.url, [Event.CHECKIN_CREATED])


@pytest.fixture
def emit(member, kr, django_capture_on_commit_callbacks):
    """emit() → a fresh checkin.created delivery whose send was *not* enqueued (the tests send it themselves)."""
    values = iter(range(51, 99))

    def make():
        with django_capture_on_commit_callbacks(execute=False):
            checkin_services.checkin_submit(org=member.organization, actor=member, key_result=kr, value=next(values))
        return WebhookDelivery.objects.order_by("-pk").first()

    return make


def send(delivery) -> str:
    return webhook_delivery_send(delivery_id=delivery.pk)


def fresh(delivery) -> WebhookDelivery:
    return WebhookDelivery.objects.get(pk=delivery.pk)


def after(moment, seconds=1):
    return time_machine.travel(moment + timedelta(seconds=seconds), tick=False)


def test_500_then_200_is_retried_and_delivered(endpoint, emit, receiver):
    receiver.answer(500)
    d = emit()
    before = timezone.now()
    assert send(d) == "retrying"
    d = fresh(d)
    assert (d.status, d.attempts, d.last_status_code, d.last_error) == (Status.PENDING, 1, 500, "HTTP 500")
    assert before + timedelta(seconds=11) <= d.next_attempt_at <= timezone.now() + timedelta(seconds=19)
    assert d.last_response == "nope"
    assert send(d) == "skipped"  # not due yet
    with after(d.next_attempt_at):
        assert send(d) == "delivered"
    d = fresh(d)
    assert (d.status, d.attempts, d.last_status_code, d.next_attempt_at) == (Status.DELIVERED, 2, 200, None)
    first, second = receiver.requests
    assert first["headers"]["X-Okrapp-Delivery"] == second["headers"]["X-Okrapp-Delivery"] == str(d.public_id)
    assert [first["headers"]["X-Okrapp-Attempt"], second["headers"]["X-Okrapp-Attempt"]] == ["1", "2"]
    assert first["body"] == second["body"]
    assert verify(endpoint.secret, first["headers"]["X-Okrapp-Signature"], first["body"])
    assert send(d) == "skipped" and len(receiver.requests) == 2  # delivered stays delivered


def test_410_fails_at_once_and_is_not_retried(endpoint, emit, receiver):
    receiver.answer(410)
    d = emit()
    assert send(d) == "failed"
    d = fresh(d)
    assert (d.status, d.attempts, d.last_status_code, d.next_attempt_at) == (Status.FAILED, 1, 410, None)
    with after(timezone.now(), 3 * 86400):
        assert send(d) == "skipped"
        assert webhook_deliveries_sweep() == 0
    assert len(receiver.requests) == 1
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).consecutive_failures == 1


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(endpoint, emit, receiver, status):
    receiver.answer(status, headers={"Retry-After": "120"})
    d = emit()
    started = timezone.now()
    assert send(d) == "retrying"
    d = fresh(d)
    assert started + timedelta(seconds=120) <= d.next_attempt_at <= timezone.now() + timedelta(seconds=121)
    with after(started, 100):
        assert send(d) == "skipped"  # the receiver asked for two minutes
    with after(d.next_attempt_at):
        assert send(d) == "delivered"


def test_a_short_retry_after_does_not_shorten_the_backoff(endpoint, emit, receiver):
    receiver.answer(503, headers={"Retry-After": "1"})
    d = emit()
    started = timezone.now()
    send(d)
    assert fresh(d).next_attempt_at >= started + timedelta(seconds=11)


def test_backoff_grows_to_about_a_day_then_the_delivery_fails(endpoint, emit, receiver):
    receiver.answer(*[503] * MAX_ATTEMPTS)
    d = emit()
    first_attempt = timezone.now()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        with after(fresh(d).next_attempt_at, 0):
            assert send(d) == ("failed" if attempt == MAX_ATTEMPTS else "retrying")
            last_attempt = timezone.now()
    d = fresh(d)
    assert (d.status, d.attempts) == (Status.FAILED, MAX_ATTEMPTS)
    assert len(receiver.requests) == MAX_ATTEMPTS
    assert timedelta(hours=17) < last_attempt - first_attempt < timedelta(hours=28)


def test_retry_delays_are_exponential_with_jitter():
    rng = random.Random(7)
    delays = [retry_delay(attempt=n, rng=rng) for n in range(1, MAX_ATTEMPTS)]
    nominal = [15 * 4 ** (n - 1) for n in range(1, MAX_ATTEMPTS)]
    assert all(0.8 * b <= d <= 1.2 * b for d, b in zip(delays, nominal, strict=True))
    assert len({round(d / b, 3) for d, b in zip(delays, nominal, strict=True)}) > 1  # jittered
    assert retry_delay(attempt=1, retry_after=3600) == 3600


def test_connection_errors_are_retried(make_endpoint, emit):
    make_endpoint(f"http://127.0.0.1:{free_port()}/gone", [Event.CHECKIN_CREATED])
    d = emit()
    assert send(d) == "retrying"
    d = fresh(d)
    assert d.last_status_code is None and "Could not connect" in d.last_error


def test_private_addresses_are_refused_at_send_time(endpoint, emit, receiver, settings):
    d = emit()
    settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS = False
    assert send(d) == "failed"
    d = fresh(d)
    assert d.last_error.startswith("Refused") and d.last_status_code is None
    assert receiver.requests == []


def test_an_endpoint_is_switched_off_after_consecutive_failures(endpoint, emit, receiver, member, kr):
    receiver.answer(*[410] * DISABLE_AFTER_FAILURES)
    for n in range(DISABLE_AFTER_FAILURES):
        assert send(emit()) == "failed"
        assert WebhookEndpoint.objects.get(pk=endpoint.pk).is_active is (n < DISABLE_AFTER_FAILURES - 1)
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == DISABLE_AFTER_FAILURES and endpoint.disabled_at is not None
    assert endpoint.disabled_reason.startswith(f"Switched off automatically after {DISABLE_AFTER_FAILURES} failed")
    assert AuditEvent.objects.filter(verb="webhook.endpoint_disabled", target_id=str(endpoint.public_id)).count() == 1
    count = WebhookDelivery.objects.count()
    checkin_services.checkin_submit(org=member.organization, actor=member, key_result=kr, value=1)
    assert WebhookDelivery.objects.count() == count  # a switched-off endpoint gets no new events
    webhook_endpoint_update(org=endpoint.organization, actor=member, endpoint=endpoint, is_active=True)
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.consecutive_failures, endpoint.disabled_reason) == (True, 0, "")


def test_a_success_resets_the_failure_count(endpoint, emit, receiver):
    receiver.answer(*[410] * (DISABLE_AFTER_FAILURES - 1))
    for _ in range(DISABLE_AFTER_FAILURES - 1):
        send(emit())
    assert send(emit()) == "delivered"
    receiver.answer(410)
    send(emit())
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.consecutive_failures == 1


def test_pending_deliveries_of_a_switched_off_endpoint_fail_without_sending(endpoint, emit, receiver, admin):
    d = emit()
    webhook_endpoint_update(org=endpoint.organization, actor=admin, endpoint=endpoint, is_active=False)
    assert send(d) == "failed"
    assert fresh(d).last_error == "Not sent: the endpoint is switched off."
    assert receiver.requests == []
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).consecutive_failures == 0


# --- The sweeper: nothing is lost -------------------------------------------------------------------------------------
def test_a_lost_enqueue_is_sent_by_the_sweeper(
    endpoint, emit, receiver, eager_celery, django_capture_on_commit_callbacks
):
    d = emit()  # committed, but its send task was never published
    assert webhook_deliveries_sweep() == 0  # just enqueued: give the task its chance first
    with after(timezone.now(), REQUEUE_AFTER.total_seconds() + 1), django_capture_on_commit_callbacks(execute=True):
        assert webhook_deliveries_sweep() == 1
    assert fresh(d).status == Status.DELIVERED and len(receiver.requests) == 1


def test_a_worker_killed_mid_send_leaves_the_delivery_to_the_sweeper(
    endpoint, emit, receiver, eager_celery, django_capture_on_commit_callbacks
):
    d = emit()
    now = timezone.now()
    # What a worker leaves behind when it dies between its claim and recording the answer:
    WebhookDelivery.objects.filter(pk=d.pk).update(attempts=1, leased_until=now + SEND_LEASE, last_attempt_at=now)
    assert send(d) == "skipped"  # the broker's redelivery of the task finds the lease still held
    with after(now, REQUEUE_AFTER.total_seconds() + 1):
        assert webhook_deliveries_sweep() == 0  # still leased
    with after(now, SEND_LEASE.total_seconds() + 1), django_capture_on_commit_callbacks(execute=True):
        assert webhook_deliveries_sweep() == 1
    d = fresh(d)
    assert (d.status, d.attempts) == (Status.DELIVERED, 2)
    assert receiver.requests[0]["headers"]["X-Okrapp-Delivery"] == str(d.public_id)


def test_long_retries_wait_in_the_table_for_the_sweeper(
    endpoint, emit, receiver, eager_celery, django_capture_on_commit_callbacks
):
    receiver.answer(503, headers={"Retry-After": "3600"})
    d = emit()
    send(d)
    d = fresh(d)
    assert d.enqueued_at is None  # an hour is too long for a countdown: the table holds it
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_deliveries_sweep() == 0
    with after(d.next_attempt_at), django_capture_on_commit_callbacks(execute=True):
        assert webhook_deliveries_sweep() == 1
    assert fresh(d).status == Status.DELIVERED


def test_a_lost_final_attempt_is_closed_by_the_sweeper(endpoint, emit, receiver):
    d = emit()
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=d.pk).update(attempts=MAX_ATTEMPTS, leased_until=now + SEND_LEASE)
    with after(now, SEND_LEASE.total_seconds() + 1):
        assert webhook_deliveries_sweep() == 0
    d = fresh(d)
    assert d.status == Status.FAILED and "lost" in d.last_error
    assert receiver.requests == []


# --- Ping, redelivery, rotation, retention ----------------------------------------------------------------------------
def test_ping_is_tried_once_and_never_counts_towards_switching_off(endpoint, receiver, admin):
    receiver.answer(500)
    d = webhook_ping(org=endpoint.organization, actor=admin, endpoint=endpoint)
    assert send(d) == "failed"
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).consecutive_failures == 0
    webhook_endpoint_update(org=endpoint.organization, actor=admin, endpoint=endpoint, is_active=False)
    d = webhook_ping(org=endpoint.organization, actor=admin, endpoint=endpoint)
    assert send(d) == "delivered"  # a switched-off endpoint can be tested before switching it on
    body = receiver.requests[-1]["json"]
    assert body["type"] == "ping" and body["data"]["endpoint"]["id"] == str(endpoint.public_id)
    assert receiver.requests[-1]["headers"]["X-Okrapp-Event"] == "ping"


def test_redeliver_sends_the_same_delivery_again(endpoint, emit, receiver, admin):
    receiver.answer(410)
    d = emit()
    send(d)
    d = webhook_redeliver(org=endpoint.organization, actor=admin, delivery=fresh(d))
    assert (d.status, d.attempts) == (Status.PENDING, 0)
    assert send(d) == "delivered"
    first, second = receiver.requests
    assert first["headers"]["X-Okrapp-Delivery"] == second["headers"]["X-Okrapp-Delivery"]
    assert first["body"] == second["body"]


def test_rotation_with_grace_signs_with_both_secrets_until_it_ends(endpoint, emit, receiver, admin):
    old = endpoint.secret
    new = webhook_endpoint_rotate_secret(
        org=endpoint.organization, actor=admin, endpoint=endpoint, keep_old_for=timedelta(hours=24)
    )
    assert new != old and WebhookEndpoint.objects.get(pk=endpoint.pk).secret == new
    send(emit())
    header, body = receiver.requests[-1]["headers"]["X-Okrapp-Signature"], receiver.requests[-1]["body"]
    assert header.count("v1=") == 2 and verify(old, header, body) and verify(new, header, body)
    with after(timezone.now(), 24 * 3600 + 1):
        send(emit())
        header, body = receiver.requests[-1]["headers"]["X-Okrapp-Signature"], receiver.requests[-1]["body"]
        assert header.count("v1=") == 1 and verify(new, header, body) and not verify(old, header, body)


def test_rotation_without_grace_stops_the_old_secret_at_once(endpoint, emit, receiver, admin):
    old = endpoint.secret
    new = webhook_endpoint_rotate_secret(org=endpoint.organization, actor=admin, endpoint=endpoint)
    send(emit())
    header, body = receiver.requests[-1]["headers"]["X-Okrapp-Signature"], receiver.requests[-1]["body"]
    assert verify(new, header, body) and not verify(old, header, body)


def test_finished_deliveries_are_pruned_after_30_days(endpoint, emit, receiver):
    done, pending = emit(), emit()
    send(done)
    with after(timezone.now(), 31 * 86400):
        assert webhook_deliveries_prune() == 1
    assert list(WebhookDelivery.objects.values_list("pk", flat=True)) == [pending.pk]


def test_emit_takes_plain_data_too(org, endpoint, receiver):
    ids = webhook_emit(org=org, event_type=Event.CHECKIN_CREATED, data={"hello": "world"})
    assert len(ids) == 1
    assert sender.webhook_delivery_send(delivery_id=ids[0]) == "delivered"
    assert receiver.requests[0]["json"]["data"] == {"hello": "world"}
