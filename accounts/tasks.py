"""Thin Celery tasks for accounts (STYLE.md c.7): take ids, stable names, safe to run twice."""

from smtplib import SMTPException

from celery import shared_task


@shared_task(
    name="accounts.send_invitation_email",
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=5,
)
def send_invitation_email(org_id: int, invitation_id: int, token: str) -> None:
    """Email one invitation link. A second delivery of the same message sends nothing.

    The token travels in the task message because only its hash is stored: the link cannot be rebuilt from the
    database. The message lives in our own broker for seconds and the link is single-use and expires in 7 days,
    which is the same exposure as the email itself.
    """
    from accounts.services import invitation_send_email  # import in the body to avoid cycles (HackSoft)

    invitation_send_email(org_id=org_id, invitation_id=invitation_id, token=token)
