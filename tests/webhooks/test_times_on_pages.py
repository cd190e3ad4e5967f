"""Times on the webhook and token pages: "just now" for what happened under a minute ago (not "0 minutes ago"), and
instants in the viewer's time zone (the org's Europe/Berlin), not UTC."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import ApiToken
from tests.webhooks.test_views import add_deliveries
from webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return response.content.decode().replace("\xa0", " ")  # timesince joins number and unit with a no-break space


@pytest.fixture
def berlin(admin):
    org = admin.organization
    org.timezone = "Europe/Berlin"
    org.save(update_fields=["timezone"])
    admin.timezone = ""
    admin.save(update_fields=["timezone"])
    return admin


def test_a_fresh_delivery_happened_just_now_and_retries_at_berlin_time(client_for, berlin, make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url)
    (fresh,) = add_deliveries(endpoint, 1)
    (retrying,) = add_deliveries(endpoint, 1, status=WebhookDelivery.Status.PENDING)
    next_at = datetime(2026, 7, 1, 10, 30, tzinfo=UTC)
    WebhookDelivery.objects.filter(pk=retrying.pk).update(next_attempt_at=next_at, last_attempt_at=next_at)
    WebhookDelivery.objects.filter(pk=fresh.pk).update(created_at=timezone.now() - timedelta(hours=3, seconds=5))
    html = _text(client_for(berlin).get(reverse("webhooks:list", args=[berlin.organization.slug])))
    assert "0 minutes" not in html and "just now" in html and "3 hours ago" in html
    assert "2026-07-01 12:30:00 CEST" in html and "10:30:00" not in html
    detail = reverse("webhooks:delivery", args=[berlin.organization.slug, retrying.public_id])
    assert "2026-07-01 12:30:00 CEST" in client_for(berlin).get(detail).content.decode()


def test_a_token_used_seconds_ago_was_used_just_now(client_for, member):
    token, _ = account_services.api_token_create(actor=member, name="script")
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    html = _text(client_for(member).get(reverse("accounts:tokens", args=[member.organization.slug])))
    assert "used just now" in html and "0 minutes" not in html
