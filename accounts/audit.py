"""Audit trail writes. Called from services (and auth signals), never from views or templates."""

import ipaddress

from django.conf import settings

from accounts.models import AuditEvent


def client_ip(request) -> str | None:
    """The client's address: behind `TRUSTED_PROXY_COUNT` proxies, the X-Forwarded-For entry the outermost trusted
    proxy appended (entries further left are whatever the client sent, so never trusted); else REMOTE_ADDR."""
    if request is None:
        return None
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        entries = [part.strip() for part in forwarded.split(",")]
        if len(entries) >= hops:
            try:
                return str(ipaddress.ip_address(entries[-hops]))
            except ValueError:
                pass  # not an address: fall back to the socket's
    return request.META.get("REMOTE_ADDR") or None


def audit_record(*, org, actor, verb: str, target=None, diff: dict | None = None, ip: str | None = None) -> AuditEvent:
    """Append one audit event. `target` is any model instance (its public id is kept, not a FK)."""
    target_id = getattr(target, "public_id", None) or getattr(target, "pk", "")
    return AuditEvent.objects.create(
        organization=org,
        actor=actor if getattr(actor, "pk", None) else None,
        verb=verb,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target_id or ""),
        target_repr=str(target)[:200] if target is not None else "",
        diff=diff or {},
        ip=ip,
    )
