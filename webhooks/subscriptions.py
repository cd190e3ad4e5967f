"""Which event types an organization's active endpoints want, answered from Redis so that writes in orgs without
webhooks (nearly all of them) pay no SQL for the feature (check-in submit stays at 5 statements).

The answer is only a pre-filter: the INSERT that writes deliveries re-reads the endpoints in the same statement, so a
stale "yes" costs one empty INSERT. A stale "no" would lose events, and the versioning below prevents it:
- every change to an org's endpoints marks its version key dirty inside the transaction, and sets a fresh version
  after commit (`subscriptions_changed`);
- a reader caches what it read from the database under the version it saw *before* reading, and trusts a cached
  value only when its version is the current one and not dirty. A reader that raced a change therefore either
  reads the database (also between the change's commit and its new version: the key is still dirty) or caches
  under a version that the change has already replaced.
If Redis cannot be read, every call reads the database; if the dirty mark cannot be written, a change that may add
subscriptions fails rather than risk a stale "no".
"""

from __future__ import annotations

import contextvars
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

VALUE_TTL = 24 * 60 * 60
DIRTY_TTL = 5 * 60  # longer than any transaction that edits endpoints; a rolled-back edit stops mattering then
_DIRTY = "dirty:"
_read_once: contextvars.ContextVar[dict | None] = contextvars.ContextVar("webhook_subscriptions", default=None)


@contextmanager
def subscriptions_read_once() -> Iterator[None]:
    """Within this block each org's subscriptions are looked up once (a batch of writes in one transaction, such as
    a whole "My week" form, asks Redis once instead of once per row)."""
    token = _read_once.set({})
    try:
        yield
    finally:
        _read_once.reset(token)


def _keys(org_id: int) -> tuple[str, str]:
    return f"webhooks:subs-version:{org_id}", f"webhooks:subs:{org_id}"


def _from_db(org_id: int) -> frozenset[str]:
    from webhooks.models import WebhookEndpoint

    rows = WebhookEndpoint.objects.filter(organization_id=org_id, is_active=True).values_list("events", flat=True)
    return frozenset(event for events in rows for event in events)


def subscribed_event_types(org_id: int) -> frozenset[str]:
    """Event types at least one active endpoint of the org subscribes to (may include a few no longer wanted)."""
    memo = _read_once.get()
    if memo is not None and org_id in memo:
        return memo[org_id]
    types = _lookup(org_id)
    if memo is not None:
        memo[org_id] = types
    return types


def _lookup(org_id: int) -> frozenset[str]:
    version_key, value_key = _keys(org_id)
    version = None
    try:
        got = cache.get_many([version_key, value_key])
        version = got.get(version_key)
        if version is None:
            cache.add(version_key, uuid.uuid4().hex, None)
            version = cache.get(version_key)
        cached = got.get(value_key)
        if version and not version.startswith(_DIRTY) and cached and cached[0] == version:
            return frozenset(cached[1])
    except Exception:  # noqa: BLE001 - Redis down: correctness first, read the database
        logger.warning("webhook subscription cache unavailable", exc_info=True)
        version = None
    types = _from_db(org_id)
    if version and not version.startswith(_DIRTY):
        try:
            cache.set(value_key, (version, sorted(types)), VALUE_TTL)
        except Exception:  # noqa: BLE001
            logger.warning("webhook subscription cache unavailable", exc_info=True)
    return types


def subscriptions_changed(org_id: int, *, may_add: bool = True) -> None:
    """Call inside the transaction that creates, edits, enables, disables or deletes an endpoint.

    may_add=False (deleting, switching off): a stale cached "yes" is harmless, so a Redis error is only logged."""
    version_key, _ = _keys(org_id)
    try:
        cache.set(version_key, _DIRTY + uuid.uuid4().hex, DIRTY_TTL)
    except Exception:
        if may_add:
            raise
        logger.warning("webhook subscription cache unavailable", exc_info=True)

    def publish():
        try:
            cache.set(version_key, uuid.uuid4().hex, None)
        except Exception:  # noqa: BLE001
            # The dirty marker expires after DIRTY_TTL and readers fall back to the database until then.
            logger.warning("webhook subscription cache unavailable", exc_info=True)

    transaction.on_commit(publish)
