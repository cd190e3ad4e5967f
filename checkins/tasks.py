"""Celery tasks of the nudge pipeline: thin, take ids, stable names, narrow retries (STYLE.md c.7)."""

from __future__ import annotations

import logging
import smtplib

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="checkins.dispatch_due_nudges")
def dispatch_due_nudges() -> int:
    """Beat, every 5 minutes (with `expires`): claim due members and fan out send batches. Safe to overlap."""
    from checkins.nudge_dispatch import nudges_dispatch

    return nudges_dispatch().claimed


# acks_late (global setting) + receipts: a batch redelivered after a worker died resends only unstamped receipts.
# A batch the dispatcher claimed has no receipts yet: this task writes them first (from the claim journal), then sends.
@shared_task(
    name="checkins.send_nudge_batch",
    autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError),
    retry_backoff=10,
    retry_backoff_max=600,
    max_retries=6,
)
def send_nudge_batch(receipt_ids: list[int]) -> dict:
    """Write the receipts of a claimed batch, then send the nudges of up to 500 receipts over one SMTP connection.
    Idempotent."""
    from checkins.nudge_send import nudge_batch_send

    return vars(nudge_batch_send(receipt_ids=receipt_ids))


@shared_task(name="checkins.send_test_nudge")
def send_test_nudge(membership_id: int) -> None:
    """The "send me a test nudge" button. Writes no receipt."""
    from accounts.models import Membership
    from checkins.nudge_send import nudge_test_send

    membership = (
        Membership.objects.select_related("user", "organization")  # tenancy: id from the settings page
        .filter(pk=membership_id, is_active=True)
        .first()
    )
    if membership is not None:  # gone meanwhile: nothing to do (don't retry DoesNotExist)
        nudge_test_send(membership=membership)


@shared_task(name="checkins.post_to_slack", bind=True, max_retries=6, ignore_result=True)
def post_to_slack(self, target: str | dict, payload: dict) -> None:
    """POST one message to the Slack webhook of `target` ({"org": id} or {"team": id}, read at each attempt);
    429/5xx/connection errors retry with backoff, honouring Retry-After. A webhook removed meanwhile: nothing."""
    from checkins.slack import SlackError, SlackRetryable, slack_hook_url, slack_post

    url = slack_hook_url(target)
    if not url:
        logger.info("slack post dropped: the webhook was removed")
        return
    try:
        slack_post(url=url, payload=payload)
    except SlackRetryable as exc:
        countdown = exc.retry_after or min(10 * 2**self.request.retries, 600)
        raise self.retry(exc=exc, countdown=countdown) from None
    except SlackError as exc:
        logger.warning("slack post dropped: %s", exc)


@shared_task(name="checkins.send_digests")
def send_digests() -> int:
    """Beat, hourly: each org whose local digest day and hour is now gets its weekly leader digest (once)."""
    from checkins.digest import digests_send_due

    return digests_send_due()
