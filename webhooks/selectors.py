"""Webhook reads, always scoped to one organization. Lists never load (or decrypt) the signing secrets."""

from __future__ import annotations

import uuid
from collections import defaultdict

from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.shortcuts import get_object_or_404

from accounts.models import Organization
from webhooks.models import WebhookDelivery, WebhookEndpoint

SECRET_FIELDS = ("secret", "previous_secret")


def webhook_endpoint_list(*, org: Organization) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.for_org(org).defer(*SECRET_FIELDS).order_by("created_at", "pk")


def webhook_endpoint_get(*, org: Organization, public_id: uuid.UUID, with_secret: bool = False) -> WebhookEndpoint:
    qs = WebhookEndpoint.objects.for_org(org)
    return get_object_or_404(qs if with_secret else qs.defer(*SECRET_FIELDS), public_id=public_id)


def webhook_recent_deliveries(
    *, org: Organization, endpoints: list[WebhookEndpoint], per_endpoint: int = 5
) -> dict[int, list[WebhookDelivery]]:
    """The newest `per_endpoint` deliveries of each endpoint, in one query (a window function), by endpoint pk."""
    ranked = (
        WebhookDelivery.objects.for_org(org)
        .filter(endpoint__in=[e.pk for e in endpoints])
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("endpoint_id")], order_by=[F("created_at").desc(), F("pk").desc()])
        )
        .filter(rank__lte=per_endpoint)
        .order_by("endpoint_id", "-created_at", "-pk")
    )
    by_endpoint: dict[int, list[WebhookDelivery]] = defaultdict(list)
    for delivery in ranked:
        by_endpoint[delivery.endpoint_id].append(delivery)
    return by_endpoint


def webhook_delivery_list(*, org: Organization, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.for_org(org).filter(endpoint=endpoint).order_by("-created_at", "-pk")


def webhook_delivery_get(*, org: Organization, public_id: uuid.UUID) -> WebhookDelivery:
    qs = (
        WebhookDelivery.objects.for_org(org)
        .select_related("endpoint")
        .defer(*(f"endpoint__{name}" for name in SECRET_FIELDS))
    )
    return get_object_or_404(qs, public_id=public_id)
