"""Celery tasks for outbound webhooks: thin, take ids, stable names (STYLE.md c.7).

`webhooks.deliver` runs on the "integrations" queue (settings.CELERY_TASK_ROUTES): a slow customer endpoint can
hold a worker for up to the HTTP timeouts, and must not delay check-in nudges on the default queue.
"""

from __future__ import annotations

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
