"""Telling an organization's admins that one of its webhook endpoints was switched off automatically.

webhooks.delivery switches an endpoint off after DISABLE_AFTER_FAILURES failed deliveries in a row and, on commit,
enqueues webhooks.notify_endpoint_disabled with the `disabled_at` it wrote. The task emails every active ADMIN and
OWNER of the org, one message each (no addresses shown to the others), with the URL, the reason and a link to the
webhooks settings page. The signing secret is never loaded here.
"""

from __future__ import annotations

import logging
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Organization, Role
from webhooks.models import WebhookEndpoint
from webhooks.selectors import SECRET_FIELDS

logger = logging.getLogger(__name__)


def webhook_disabled_recipients(*, org: Organization) -> list[Membership]:
    """Who hears about a switched-off endpoint: the org's active admins and owners with an active user account."""
    return list(
        Membership.objects.for_org(org)
        .filter(is_active=True, role__gte=Role.ADMIN, user__is_active=True)
        .select_related("user")
        .order_by("user__email")
    )


def webhook_settings_url(*, org: Organization, endpoint: WebhookEndpoint) -> str:
    """Absolute link to the endpoint's card on the org's webhooks settings page."""
    return f"{settings.SITE_URL}{reverse('webhooks:list', args=[org.slug])}#endpoint-{endpoint.public_id}"


def webhook_endpoint_disabled_notify(*, org_id: int, endpoint_id: int, disabled_at: datetime) -> int:
    """Email the org's admins that the endpoint was switched off at `disabled_at`; returns how many mails went out.

    Sends nothing when the endpoint is gone, was switched back on (or off and on again: `disabled_at` differs) or
    was already notified. The claim (a compare-and-set of disabled_notified_at) commits before sending, so two
    deliveries of the task send once. If handing the mails to the backend fails, the claim is released and the error
    re-raised for the task's retry; some recipients may then get the mail twice. A lost publish or a task that gave
    up is re-enqueued by the delivery sweeper (webhooks.delivery, for a few hours). A worker killed between the
    claim and the send loses the notification (at most once): the page still shows the switch-off.
    """
    endpoints = WebhookEndpoint.objects.for_org(org_id).filter(pk=endpoint_id)
    now = timezone.now()
    claimed = endpoints.filter(is_active=False, disabled_at=disabled_at, disabled_notified_at__isnull=True).update(
        disabled_notified_at=now
    )
    if not claimed:
        return 0
    endpoint = endpoints.select_related("organization").defer(*SECRET_FIELDS).get()
    org = endpoint.organization
    messages = [_message(org, endpoint, m) for m in webhook_disabled_recipients(org=org)]
    try:
        sent = get_connection().send_messages(messages) if messages else 0
    except Exception:
        endpoints.filter(disabled_notified_at=now).update(disabled_notified_at=None)
        raise
    logger.info("webhook endpoint %s switched off: %s admin(s) emailed", endpoint.public_id, sent or 0)
    return sent or 0


def _message(org: Organization, endpoint: WebhookEndpoint, recipient: Membership) -> EmailMultiAlternatives:
    context = {
        "org": org,
        "recipient": recipient,
        "endpoint": endpoint,
        "settings_url": webhook_settings_url(org=org, endpoint=endpoint),
        "site_url": settings.SITE_URL,
    }
    host = urlsplit(endpoint.url).hostname or endpoint.url
    # Header values may not contain newlines; an org name typed through the API could.
    subject = " ".join(f"[{org.name}] Webhook endpoint switched off: {host}".split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("webhooks/email/endpoint_disabled.txt", context),
        to=[recipient.user.email],
    )
    message.attach_alternative(render_to_string("webhooks/email/endpoint_disabled.html", context), "text/html")
    return message
