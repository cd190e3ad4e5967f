"""Sending deliveries: claim, sign, POST, record; retries with backoff; the sweeper; retention.

Delivery is at-least-once. A worker claims a delivery with a compare-and-set lease before sending and records the
outcome after; a worker killed in between leaves the lease to expire and the sweeper sends it again, so a receiver
may see the same X-Okrapp-Delivery twice and must deduplicate on it.

Outcomes: 2xx delivered. 429, 5xx, timeouts, connection and DNS errors: retried up to MAX_ATTEMPTS times with
exponential backoff and jitter (15 s, 1 min, 4 min, 16 min, ~1 h, ~4 h, ~17 h: about a day in all), never sooner
than a Retry-After header asks. Other 4xx, 3xx (redirects are not followed) and SSRF refusals: failed at once.
Short retries are enqueued with a countdown; long ones wait in the table for the sweeper (beat, every minute), which
also re-enqueues any due delivery whose task was lost (publish failed after commit, broker lost the message).
"""

from __future__ import annotations

import json
import logging
import random
import time
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.audit import audit_record
from webhooks import transport
from webhooks.models import Event, WebhookDelivery, WebhookEndpoint
from webhooks.signing import signature_header
from webhooks.subscriptions import subscriptions_changed

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
RETRY_BASE = 15  # seconds before the first retry; ×4 per attempt
RETRY_FACTOR = 4
JITTER = 0.2  # ±20 %, so endpoints that failed together do not all retry in the same second
SHORT_RETRY = 5 * 60  # retries due within this are enqueued with a countdown (well under the broker's visibility)
SEND_LEASE = timedelta(minutes=5)  # > the task's hard time limit: a live worker never loses its claim
REQUEUE_AFTER = timedelta(minutes=2)  # a due delivery not claimed this long after its enqueue is enqueued again
DISABLE_AFTER_FAILURES = 10  # consecutive failed deliveries before an endpoint is switched off
RETENTION = timedelta(days=30)
SWEEP_BATCH = 500
# A switch-off whose admins were not emailed this long after it is re-enqueued by the sweeper (its publish was lost,
# or its task gave up), for NOTIFY_SWEEP_WINDOW; after that the settings page still shows it.
NOTIFY_SWEEP_AFTER = timedelta(minutes=5)
NOTIFY_SWEEP_WINDOW = timedelta(hours=6)
_STATUS = WebhookDelivery.Status


def retry_delay(*, attempt: int, retry_after: int | None = None, rng: random.Random | None = None) -> int:
    """Seconds to wait after failed attempt number `attempt` (1-based); at least `retry_after`."""
    base = RETRY_BASE * RETRY_FACTOR ** (attempt - 1)
    delay = base * (rng or random).uniform(1 - JITTER, 1 + JITTER)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return int(min(delay, transport.MAX_RETRY_AFTER))


def _body(payload: dict) -> bytes:
    # The stored payload comes back from jsonb with its keys reordered; send the envelope in its documented order.
    ordered = {k: payload[k] for k in ("id", "type", "created_at", "organization", "data") if k in payload}
    return json.dumps({**ordered, **payload}, separators=(",", ":"), ensure_ascii=False).encode()


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, then the previous one while its rotation grace period lasts."""
    secrets_ = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now:
        secrets_.append(endpoint.previous_secret)
    return secrets_


def _headers(delivery: WebhookDelivery, endpoint: WebhookEndpoint, body: bytes, now: datetime) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": f"okrapp-webhooks/1.0 (+{settings.SITE_URL})",
        "X-Okrapp-Event": delivery.event_type,
        "X-Okrapp-Delivery": str(delivery.public_id),
        "X-Okrapp-Attempt": str(delivery.attempts),
        "X-Okrapp-Signature": signature_header(signing_secrets(endpoint, now), int(time.time()), body),
    }


def webhook_delivery_send(*, delivery_id: int) -> str:
    """Make one attempt at a delivery if it is due and nobody else holds it. Returns what happened.

    Runs outside any transaction: the claim commits before the POST, the outcome after it.
    """
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(  # tenancy: system (a task takes the id; the row carries its org)
        Q(leased_until__isnull=True) | Q(leased_until__lt=now),
        pk=delivery_id,
        status=_STATUS.PENDING,
        next_attempt_at__lte=now,
        attempts__lt=MAX_ATTEMPTS,
    ).update(leased_until=now + SEND_LEASE, attempts=F("attempts") + 1, last_attempt_at=now, updated_at=now)
    if not claimed:
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)  # tenancy: system
    endpoint = delivery.endpoint
    if not endpoint.is_active and delivery.event_type != Event.PING:
        return _record(delivery, transport.Outcome(delivered=False, error="Not sent: the endpoint is switched off."))
    body = _body(delivery.payload)
    outcome = transport.post(
        url=endpoint.url,
        body=body,
        headers=_headers(delivery, endpoint, body, now),
        allow_private=settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS,
    )
    return _record(delivery, outcome)


def _record(delivery: WebhookDelivery, outcome: transport.Outcome) -> str:
    now = timezone.now()
    common = {
        "last_status_code": outcome.status_code,
        "last_error": outcome.error[:300],
        "last_response": outcome.response_excerpt[:500],
        "last_duration_ms": outcome.duration_ms,
        "leased_until": None,
        "updated_at": now,
    }
    row = WebhookDelivery.objects.filter(pk=delivery.pk)  # tenancy: system
    if outcome.delivered:
        row.exclude(status=_STATUS.DELIVERED).update(
            status=_STATUS.DELIVERED, delivered_at=now, next_attempt_at=None, **common
        )
        # Only a write when there was something to reset: a healthy endpoint's row is not touched per delivery.
        WebhookEndpoint.objects.filter(pk=delivery.endpoint_id, consecutive_failures__gt=0).update(  # tenancy: system
            consecutive_failures=0
        )
        return "delivered"
    # Only the claim that made this attempt may move the delivery on (attempts is the claim's fencing token).
    mine = row.filter(status=_STATUS.PENDING, attempts=delivery.attempts)
    is_ping = delivery.event_type == Event.PING
    if outcome.retryable and not is_ping and delivery.attempts < MAX_ATTEMPTS:
        delay = retry_delay(attempt=delivery.attempts, retry_after=outcome.retry_after)
        next_at = now + timedelta(seconds=delay)
        soon = delay <= SHORT_RETRY
        if mine.update(next_attempt_at=next_at, enqueued_at=next_at if soon else None, **common) and soon:
            from webhooks.tasks import deliver_webhook

            try:
                deliver_webhook.apply_async((delivery.pk,), countdown=delay)
            except Exception:  # noqa: BLE001 - the sweeper re-enqueues it REQUEUE_AFTER after it is due
                logger.warning("could not enqueue webhook retry %s", delivery.pk, exc_info=True)
        return "retrying"
    failed = mine.update(status=_STATUS.FAILED, next_attempt_at=None, **common)
    if failed and not is_ping and delivery.endpoint.is_active:  # a switched-off endpoint's leftovers do not count
        _count_failure(delivery.endpoint, outcome.error, now)
    return "failed"


def _count_failure(endpoint: WebhookEndpoint, error: str, now: datetime) -> None:
    """One more failed delivery in a row; at DISABLE_AFTER_FAILURES the endpoint is switched off, audited, and the
    org's admins are emailed after commit (webhooks.notifications)."""
    with transaction.atomic():
        endpoints = WebhookEndpoint.objects.filter(pk=endpoint.pk)  # tenancy: system
        endpoints.update(consecutive_failures=F("consecutive_failures") + 1)
        reason = (
            f"Switched off automatically after {DISABLE_AFTER_FAILURES} failed deliveries in a row "
            f"(last: {error or 'no answer'})."
        )[:200]
        disabled = endpoints.filter(is_active=True, consecutive_failures__gte=DISABLE_AFTER_FAILURES).update(
            is_active=False, disabled_at=now, disabled_reason=reason, disabled_notified_at=None, updated_at=now
        )
        if disabled:
            from webhooks.tasks import notify_endpoint_disabled

            # The admins get an email; `now` identifies this switch-off, so a task that runs after the endpoint
            # was switched on (and maybe off again) sends nothing. A failed publish is only logged.
            transaction.on_commit(
                partial(notify_endpoint_disabled.delay, endpoint.organization_id, endpoint.pk, now.isoformat()),
                robust=True,
            )
            audit_record(
                org=endpoint.organization,
                actor=None,
                verb="webhook.endpoint_disabled",
                target=endpoint,
                diff={"reason": reason},
            )
            subscriptions_changed(endpoint.organization_id, may_add=False)
            logger.warning("webhook endpoint %s disabled after repeated failures", endpoint.public_id)


def webhook_deliveries_sweep(*, limit: int = SWEEP_BATCH) -> int:
    """Beat, every minute: enqueue due deliveries that no task holds; close those whose last attempt was lost.

    Returns how many were enqueued. Two sweeps at once skip each other's rows (SKIP LOCKED).
    """
    from webhooks.services import enqueue_on_commit

    now = timezone.now()
    free = Q(leased_until__isnull=True) | Q(leased_until__lt=now)
    pending = WebhookDelivery.objects.filter(free, status=_STATUS.PENDING, next_attempt_at__lte=now)  # tenancy: system
    with transaction.atomic():
        ids = list(
            pending.filter(
                Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - REQUEUE_AFTER), attempts__lt=MAX_ATTEMPTS
            )
            .order_by("next_attempt_at")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            WebhookDelivery.objects.filter(pk__in=ids).update(enqueued_at=now)  # tenancy: system
            enqueue_on_commit(ids)
    # A worker died during the final attempt: nothing is left to try.
    exhausted = pending.filter(attempts__gte=MAX_ATTEMPTS).select_related("endpoint")
    for delivery in exhausted.defer("endpoint__secret", "endpoint__previous_secret")[:limit]:
        _record(delivery, transport.Outcome(delivered=False, error="The worker was lost during the last attempt."))
    _sweep_disabled_notifications(now)
    return len(ids)


def _sweep_disabled_notifications(now: datetime) -> int:
    """Enqueue the admin email again for recent switch-offs nobody was told about. The task claims with a
    compare-and-set on disabled_notified_at, so a sweep racing the original task still sends one email."""
    from webhooks.tasks import notify_endpoint_disabled

    untold = WebhookEndpoint.objects.filter(  # tenancy: system (the task re-scopes by org)
        is_active=False,
        disabled_notified_at__isnull=True,
        disabled_at__lte=now - NOTIFY_SWEEP_AFTER,
        disabled_at__gte=now - NOTIFY_SWEEP_WINDOW,
    ).values_list("organization_id", "pk", "disabled_at")[:SWEEP_BATCH]
    count = 0
    for org_id, pk, disabled_at in untold:
        # expires: during an SMTP outage, sweeps must not stack up tasks that would all run at once afterwards.
        notify_endpoint_disabled.apply_async((org_id, pk, disabled_at.isoformat()), expires=60)
        count += 1
    return count


def webhook_deliveries_prune(*, older_than: timedelta = RETENTION, batch: int = 5000) -> int:
    """Beat, daily: delete finished deliveries older than the retention period, in batches."""
    cutoff, total = timezone.now() - older_than, 0
    old = WebhookDelivery.objects.filter(created_at__lt=cutoff).exclude(status=_STATUS.PENDING)  # tenancy: system
    while True:
        ids = list(old.values_list("pk", flat=True)[:batch])
        if not ids:
            return total
        total += WebhookDelivery.objects.filter(pk__in=ids).delete()[0]  # tenancy: system
