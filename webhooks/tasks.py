"""Celery tasks for outbound webhooks: thin, take ids, stable names (STYLE.md c.7).

`webhooks.deliver` runs on the "integrations" queue (settings.CELERY_TASK_ROUTES): a slow customer endpoint can
hold a worker for up to the HTTP timeouts, and must not delay check-in nudges on the default queue.
`webhooks.notify_endpoint_disabled` (an email to the org's admins) stays on the default queue.
"""

from __future__ import annotations

from datetime import datetime
from smtplib import SMTPException

from celery import shared_task


@shared_task(name="webhooks.deliver", ignore_result=True)
def deliver_webhook(delivery_id: int) -> str:
    """One attempt at one delivery. Idempotent: a delivery that is not due, done or held by another worker is skipped.
    Retries are scheduled in the delivery row (webhooks.delivery), not with Celery's retry."""
    from webhooks.delivery import webhook_delivery_send

    return webhook_delivery_send(delivery_id=delivery_id)


@shared_task(name="webhooks.sweep_deliveries", ignore_result=True)
def sweep_webhook_deliveries() -> int:
    """Beat, every minute (with `expires`): enqueue due retries and deliveries whose send task was lost."""
    from webhooks.delivery import webhook_deliveries_sweep

    return webhook_deliveries_sweep()


@shared_task(name="webhooks.prune_deliveries", ignore_result=True)
def prune_webhook_deliveries() -> int:
    """Beat, daily: delete delivered and failed deliveries older than 30 days."""
    from webhooks.delivery import webhook_deliveries_prune

    return webhook_deliveries_prune()


@shared_task(
    name="webhooks.notify_endpoint_disabled",
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=5,
)
def notify_endpoint_disabled(org_id: int, endpoint_id: int, disabled_at: str) -> None:
    """Email the org's admins that an endpoint was switched off automatically. Safe to run twice: it sends only
    while the endpoint is still off since `disabled_at` (ISO 8601) and nobody was told yet."""
    from webhooks.notifications import webhook_endpoint_disabled_notify

    webhook_endpoint_disabled_notify(
        org_id=org_id, endpoint_id=endpoint_id, disabled_at=datetime.fromisoformat(disabled_at)
    )
