"""Webhook writes: endpoints (create, edit, delete, rotate/reveal the secret), emitting events, ping, redeliver.

Role checks (ADMIN) live in the views; services assert the org matches and audit what they change.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import Membership, Organization
from webhooks import transport
from webhooks.models import SUBSCRIBABLE_EVENTS, Event, WebhookDelivery, WebhookEndpoint
from webhooks.signing import generate_secret
from webhooks.subscriptions import subscribed_event_types, subscriptions_changed

MAX_ENDPOINTS_PER_ORG = 16
SUBSCRIBABLE = {value for value, _ in SUBSCRIBABLE_EVENTS}
ENDPOINT_FIELDS = {"url", "description", "events", "is_active"}

EventData = dict | Callable[[], dict]


def _same_org(org: Organization, *objs) -> None:
    for obj in objs:
        assert obj.organization_id == org.pk, f"{obj!r} belongs to another organization"


def _audit(org, actor: Membership | None, verb: str, target, diff: dict | None = None, ip: str | None = None):
    audit_record(org=org, actor=actor.user if actor else None, verb=verb, target=target, diff=diff, ip=ip)


# --- Endpoints ------------------------------------------------------------------------------------------------------
def _clean(org: Organization, *, url: str, description: str, events: Iterable[str], exclude_pk=None) -> dict:
    errors: dict[str, str] = {}
    url = (url or "").strip()
    problem = transport.url_problem(url, allow_private=settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS) if url else None
    if not url:
        errors["url"] = "Enter the URL that receives the events."
    elif problem:
        errors["url"] = problem
    elif WebhookEndpoint.objects.for_org(org).filter(url=url).exclude(pk=exclude_pk).exists():
        errors["url"] = "This URL already receives events here; edit that endpoint instead."
    events = sorted(set(events or ()))
    if not events:
        errors["events"] = "Choose at least one event."
    elif set(events) - SUBSCRIBABLE:
        errors["events"] = "Choose from the listed events."
    description = (description or "").strip()
    if len(description) > 200:
        errors["description"] = "Keep the description under 200 characters."
    if errors:
        raise ValidationError(errors)
    return {"url": url, "description": description, "events": events}


@transaction.atomic
def webhook_endpoint_create(
    *, org: Organization, actor: Membership, url: str, events: Iterable[str], description: str = "", ip=None
) -> WebhookEndpoint:
    """Register an endpoint with a fresh signing secret (read it back with webhook_endpoint_reveal_secret)."""
    _same_org(org, actor)
    # Endpoints of one org are created one at a time, so the count and the duplicate check below cannot race.
    list(Organization.objects.select_for_update(no_key=True).filter(pk=org.pk).values_list("pk"))
    if WebhookEndpoint.objects.for_org(org).count() >= MAX_ENDPOINTS_PER_ORG:
        raise ValidationError({"url": f"An organization can have at most {MAX_ENDPOINTS_PER_ORG} endpoints."})
    fields = _clean(org, url=url, description=description, events=events)
    endpoint = WebhookEndpoint.objects.create(organization=org, secret=generate_secret(), created_by=actor, **fields)
    _audit(org, actor, "webhook.endpoint_created", endpoint, {"url": endpoint.url, "events": endpoint.events}, ip)
    subscriptions_changed(org.pk)
    return endpoint


@transaction.atomic
def webhook_endpoint_update(
    *, org: Organization, actor: Membership, endpoint: WebhookEndpoint, ip=None, **changes
) -> WebhookEndpoint:
    """Edit URL, description, events or the active flag. Switching an endpoint back on clears its failure count."""
    _same_org(org, actor, endpoint)
    if set(changes) - ENDPOINT_FIELDS:
        raise TypeError(f"Cannot change {', '.join(sorted(set(changes) - ENDPOINT_FIELDS))} here.")
    merged = {k: changes.get(k, getattr(endpoint, k)) for k in ("url", "description", "events")}
    fields = _clean(org, exclude_pk=endpoint.pk, **merged)
    if "is_active" in changes:
        fields["is_active"] = bool(changes["is_active"])
    diff = {k: [getattr(endpoint, k), v] for k, v in fields.items() if getattr(endpoint, k) != v}
    if not diff:
        return endpoint
    for key, value in fields.items():
        setattr(endpoint, key, value)
    update_fields = [*fields, "updated_at"]
    if diff.get("is_active") == [False, True]:
        endpoint.consecutive_failures, endpoint.disabled_at, endpoint.disabled_reason = 0, None, ""
        update_fields += ["consecutive_failures", "disabled_at", "disabled_reason"]
    endpoint.save(update_fields=update_fields)
    _audit(org, actor, "webhook.endpoint_updated", endpoint, diff, ip)
    subscriptions_changed(org.pk)
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, org: Organization, actor: Membership, endpoint: WebhookEndpoint, ip=None) -> None:
    """Delete the endpoint and its delivery log."""
    _same_org(org, actor, endpoint)
    _audit(org, actor, "webhook.endpoint_deleted", endpoint, {"url": endpoint.url}, ip)
    endpoint.delete()
    subscriptions_changed(org.pk, may_add=False)


@transaction.atomic
def webhook_endpoint_rotate_secret(
    *, org: Organization, actor: Membership, endpoint: WebhookEndpoint, keep_old_for: timedelta = timedelta(0), ip=None
) -> str:
    """Replace the signing secret. With keep_old_for > 0 the old secret also signs (a second v1=) until then."""
    _same_org(org, actor, endpoint)
    endpoint = WebhookEndpoint.objects.for_org(org).select_for_update().get(pk=endpoint.pk)
    old = endpoint.secret
    endpoint.secret = generate_secret()
    if keep_old_for > timedelta(0):
        endpoint.previous_secret, endpoint.previous_secret_expires_at = old, timezone.now() + keep_old_for
    else:
        endpoint.previous_secret, endpoint.previous_secret_expires_at = "", None
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    diff = {"old_secret_valid_until": endpoint.previous_secret_expires_at}
    _audit(org, actor, "webhook.secret_rotated", endpoint, json.loads(json.dumps(diff, cls=DjangoJSONEncoder)), ip)
    return endpoint.secret


def webhook_endpoint_reveal_secret(*, org: Organization, actor: Membership, endpoint: WebhookEndpoint, ip=None) -> str:
    """The signing secret in clear, for an admin who asked to see it (audited)."""
    _same_org(org, actor, endpoint)
    _audit(org, actor, "webhook.secret_revealed", endpoint, None, ip)
    return endpoint.secret


# --- Emitting -------------------------------------------------------------------------------------------------------
_INSERT_SQL = """
INSERT INTO {delivery} (organization_id, public_id, created_at, updated_at, endpoint_id, event_id, event_type,
    payload, status, attempts, next_attempt_at, enqueued_at, last_error, last_response)
SELECT e.organization_id, gen_random_uuid(), %(now)s, %(now)s, e.id, ev.id, ev.type, ev.payload, 'pending', 0,
    %(now)s, %(now)s, '', ''
FROM {endpoint} e
CROSS JOIN unnest(%(types)s::text[], %(ids)s::uuid[], %(payloads)s::jsonb[]) WITH ORDINALITY AS ev(type, id, payload, n)
WHERE e.organization_id = %(org)s AND e.is_active AND ev.type = ANY(e.events)
ORDER BY ev.n, e.id
RETURNING id
"""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def event_envelope(*, org: Organization, event_type: str, data: dict, event_id: uuid.UUID, at: datetime) -> dict:
    """The JSON body of every delivery. Only public ids, never database keys; decimals as strings."""
    body = {
        "id": str(event_id),
        "type": event_type,
        "created_at": _iso(at),
        "organization": {"slug": org.slug},
        "data": data,
    }
    return json.loads(json.dumps(body, cls=DjangoJSONEncoder))


def webhook_emit(*, org: Organization, event_type: str, data: EventData) -> list[int]:
    """Write one delivery per active endpoint of `org` subscribed to `event_type`, in the caller's transaction,
    and enqueue their sends after commit. `data` may be a callable, built only when someone is subscribed."""
    return webhook_emit_many(org=org, events=[(event_type, data)])


def webhook_emit_many(*, org: Organization, events: list[tuple[str, EventData]]) -> list[int]:
    """webhook_emit for several events in one statement. Orgs without subscribers: no SQL at all."""
    wanted = subscribed_event_types(org.pk)
    events = [(t, d) for t, d in events if t in wanted]
    if not events:
        return []
    now = timezone.now()
    types, ids, payloads = [], [], []
    for event_type, data in events:
        event_id = uuid.uuid4()
        body = event_envelope(
            org=org, event_type=event_type, data=data() if callable(data) else data, event_id=event_id, at=now
        )
        types.append(event_type)
        ids.append(event_id)
        payloads.append(json.dumps(body))
    sql = _INSERT_SQL.format(delivery=WebhookDelivery._meta.db_table, endpoint=WebhookEndpoint._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"now": now, "types": types, "ids": ids, "payloads": payloads, "org": org.pk})
        delivery_ids = [row[0] for row in cursor.fetchall()]
    if delivery_ids:
        enqueue_on_commit(delivery_ids)
    return delivery_ids


def enqueue_on_commit(delivery_ids: list[int]) -> None:
    """Publish one send task per delivery after commit. A failed publish is only logged: the sweeper catches up."""
    from webhooks.tasks import deliver_webhook

    def publish():
        for delivery_id in delivery_ids:
            deliver_webhook.delay(delivery_id)

    transaction.on_commit(publish, robust=True)


# --- Ping and redelivery --------------------------------------------------------------------------------------------
@transaction.atomic
def webhook_ping(*, org: Organization, actor: Membership, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Send a `ping` event to this endpoint now (also when it is switched off, to test it before enabling it).
    A ping is tried once; it never counts towards disabling the endpoint."""
    _same_org(org, actor, endpoint)
    now, event_id = timezone.now(), uuid.uuid4()
    data = {
        "message": "A test event from okrapp. Verify its signature, answer 2xx, and you are set up.",
        "endpoint": {"id": str(endpoint.public_id), "url": endpoint.url},
        "sent_by": {"id": str(actor.public_id), "name": actor.user.display_name},
    }
    delivery = WebhookDelivery.objects.create(
        organization=org,
        endpoint=endpoint,
        event_id=event_id,
        event_type=Event.PING,
        payload=event_envelope(org=org, event_type=Event.PING, data=data, event_id=event_id, at=now),
        next_attempt_at=now,
        enqueued_at=now,
    )
    enqueue_on_commit([delivery.pk])
    return delivery


@transaction.atomic
def webhook_redeliver(*, org: Organization, actor: Membership, delivery: WebhookDelivery, ip=None) -> WebhookDelivery:
    """Send a delivery again, same body and delivery id (receivers that already processed it can skip it), with a
    fresh set of attempts."""
    _same_org(org, actor, delivery)
    delivery = (
        WebhookDelivery.objects.for_org(org)
        .select_for_update(of=("self",))
        .select_related("endpoint")
        .defer("endpoint__secret", "endpoint__previous_secret")
        .get(pk=delivery.pk)
    )
    if not delivery.endpoint.is_active and delivery.event_type != Event.PING:
        raise ValidationError("The endpoint is switched off; enable it before redelivering.")
    if delivery.status == WebhookDelivery.Status.PENDING and delivery.attempts == 0:
        return delivery  # its first attempt is still on the way
    now = timezone.now()
    delivery.status, delivery.attempts = WebhookDelivery.Status.PENDING, 0
    delivery.next_attempt_at = delivery.enqueued_at = now
    delivery.leased_until = delivery.delivered_at = None
    delivery.save(
        update_fields=["status", "attempts", "next_attempt_at", "enqueued_at", "leased_until", "delivered_at"]
        + ["updated_at"]
    )
    _audit(org, actor, "webhook.redelivered", delivery.endpoint, {"delivery": str(delivery.public_id)}, ip)
    enqueue_on_commit([delivery.pk])
    return delivery
