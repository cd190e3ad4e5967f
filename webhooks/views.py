"""The org's webhook settings (ADMIN only): endpoints, their secrets, test pings and the delivery log (htmx)."""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.audit import client_ip
from accounts.models import Role
from okrapp.forms import add_validation_errors
from okrapp.tenancy import org_member_required
from webhooks import selectors, services
from webhooks.forms import EndpointEditForm, EndpointForm, RotateSecretForm
from webhooks.models import SUBSCRIBABLE_EVENTS, WebhookDelivery
from webhooks.signing import DEFAULT_TOLERANCE

admin_required = org_member_required(min_role=Role.ADMIN)
POLL_WINDOW = timedelta(seconds=60)  # pending rows due within this are refreshed by htmx until they settle


def _decorate(deliveries):
    """Per row: pretty JSON for the details, and whether the page should poll it (an attempt is imminent)."""
    soon = timezone.now() + POLL_WINDOW
    for d in deliveries:
        d.pretty_payload = json.dumps(d.payload, indent=2, ensure_ascii=False)
        d.poll = d.status == WebhookDelivery.Status.PENDING and (
            d.attempts == 0 or d.next_attempt_at is None or d.next_attempt_at <= soon
        )
    return deliveries


def _render_list(request, *, form=None, revealed: dict | None = None, status: int = 200):
    org = request.organization
    endpoints = list(selectors.webhook_endpoint_list(org=org))
    recent = selectors.webhook_recent_deliveries(org=org, endpoints=endpoints)
    for endpoint in endpoints:
        endpoint.recent = _decorate(recent.get(endpoint.pk, []))
        endpoint.revealed_secret = (revealed or {}).get(endpoint.pk)
        endpoint.grace = _in_grace(endpoint)
    context = {
        "endpoints": endpoints,
        "form": form or EndpointForm(initial={"events": [value for value, _ in SUBSCRIBABLE_EVENTS]}),
        "rotate_form": RotateSecretForm(),
        "max_endpoints": services.MAX_ENDPOINTS_PER_ORG,
        "tolerance_minutes": DEFAULT_TOLERANCE // 60,
    }
    return render(request, "webhooks/endpoints.html", context, status=status)


@require_http_methods(["GET", "POST"])
@admin_required
def endpoint_list(request):
    """The endpoints with their recent deliveries; POST adds an endpoint."""
    if request.method == "POST":
        form = EndpointForm(request.POST)
        if form.is_valid():
            try:
                endpoint = services.webhook_endpoint_create(
                    org=request.organization, actor=request.membership, ip=client_ip(request), **form.cleaned_data
                )
            except ValidationError as exc:
                add_validation_errors(form, exc)
            else:
                messages.success(request, f"Endpoint {endpoint.url} added. Reveal its signing secret to verify events.")
                return redirect("webhooks:list", request.organization.slug)
        return _render_list(request, form=form, status=422)
    return _render_list(request)


@require_http_methods(["GET", "POST"])
@admin_required
def endpoint_edit(request, endpoint_id):
    """Edit one endpoint; below the form, its whole delivery log, paged."""
    org = request.organization
    endpoint = selectors.webhook_endpoint_get(org=org, public_id=endpoint_id)
    initial = {k: getattr(endpoint, k) for k in ("url", "description", "events", "is_active")}
    form = EndpointEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.webhook_endpoint_update(
                org=org, actor=request.membership, endpoint=endpoint, ip=client_ip(request), **form.cleaned_data
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, "Endpoint saved.")
            return redirect("webhooks:list", org.slug)
    page = Paginator(selectors.webhook_delivery_list(org=org, endpoint=endpoint), 50).get_page(request.GET.get("page"))
    _decorate(page.object_list)
    context = {"endpoint": endpoint, "form": form, "page": page}
    return render(request, "webhooks/endpoint_edit.html", context, status=422 if form.errors else 200)


@require_POST
@admin_required
def endpoint_delete(request, endpoint_id):
    endpoint = selectors.webhook_endpoint_get(org=request.organization, public_id=endpoint_id)
    services.webhook_endpoint_delete(
        org=request.organization, actor=request.membership, endpoint=endpoint, ip=client_ip(request)
    )
    messages.success(request, f"Endpoint {endpoint.url} deleted with its delivery log.")
    return redirect("webhooks:list", request.organization.slug)


@require_POST
@admin_required
def endpoint_set_active(request, endpoint_id):
    """Switch an endpoint on (clears an automatic switch-off) or off."""
    endpoint = selectors.webhook_endpoint_get(org=request.organization, public_id=endpoint_id)
    active = request.POST.get("active") == "1"
    services.webhook_endpoint_update(
        org=request.organization, actor=request.membership, endpoint=endpoint, is_active=active, ip=client_ip(request)
    )
    messages.success(request, f"Endpoint {endpoint.url} switched {'on' if active else 'off'}.")
    return redirect("webhooks:list", request.organization.slug)


def _in_grace(endpoint) -> bool:
    """Whether the previous secret still signs (after a rotation with a grace period)."""
    expires = endpoint.previous_secret_expires_at
    return expires is not None and expires > timezone.now()


def _secret_response(request, endpoint, secret: str):
    if request.htmx:
        context = {"endpoint": endpoint, "secret": secret, "grace": _in_grace(endpoint)}
        return render(request, "webhooks/_secret.html", context)
    return _render_list(request, revealed={endpoint.pk: secret})


@require_POST
@admin_required
def endpoint_secret(request, endpoint_id):
    """Show the signing secret (a POST: it is audited)."""
    endpoint = selectors.webhook_endpoint_get(org=request.organization, public_id=endpoint_id, with_secret=True)
    secret = services.webhook_endpoint_reveal_secret(
        org=request.organization, actor=request.membership, endpoint=endpoint, ip=client_ip(request)
    )
    return _secret_response(request, endpoint, secret)


@require_POST
@admin_required
def endpoint_rotate(request, endpoint_id):
    """A new signing secret, shown at once; the old one stops now or signs alongside it for 24 hours."""
    endpoint = selectors.webhook_endpoint_get(org=request.organization, public_id=endpoint_id, with_secret=True)
    form = RotateSecretForm(request.POST)
    hours = form.cleaned_data["keep_old_hours"] if form.is_valid() else 0
    secret = services.webhook_endpoint_rotate_secret(
        org=request.organization,
        actor=request.membership,
        endpoint=endpoint,
        keep_old_for=timedelta(hours=hours),
        ip=client_ip(request),
    )
    endpoint.refresh_from_db()
    return _secret_response(request, endpoint, secret)


def _row(request, delivery, status: int = 200):
    _decorate([delivery])
    return render(request, "webhooks/_delivery_row.html", {"d": delivery}, status=status)


@require_POST
@admin_required
def endpoint_ping(request, endpoint_id):
    """Queue a `ping` to the endpoint; the returned row polls until the answer is in."""
    endpoint = selectors.webhook_endpoint_get(org=request.organization, public_id=endpoint_id)
    delivery = services.webhook_ping(org=request.organization, actor=request.membership, endpoint=endpoint)
    if request.htmx:
        return _row(request, delivery)
    messages.success(request, f"Test ping queued for {endpoint.url}.")
    return redirect("webhooks:list", request.organization.slug)


@require_GET
@admin_required
def delivery_detail(request, delivery_id):
    """One delivery: the row (htmx polling) or a page with its body and last answer."""
    delivery = selectors.webhook_delivery_get(org=request.organization, public_id=delivery_id)
    if request.htmx:
        return _row(request, delivery)
    _decorate([delivery])
    return render(request, "webhooks/delivery_detail.html", {"d": delivery})


@require_POST
@admin_required
def delivery_redeliver(request, delivery_id):
    """Send a delivery again (same body and delivery id), e.g. after fixing the receiver."""
    delivery = selectors.webhook_delivery_get(org=request.organization, public_id=delivery_id)
    try:
        delivery = services.webhook_redeliver(
            org=request.organization, actor=request.membership, delivery=delivery, ip=client_ip(request)
        )
    except ValidationError as exc:
        if request.htmx:
            delivery.error_message = " ".join(exc.messages)
            return _row(request, delivery)
        messages.error(request, " ".join(exc.messages))
    else:
        if request.htmx:
            return _row(request, delivery)
        messages.success(request, "Delivery queued again.")
    return redirect("webhooks:list", request.organization.slug)
