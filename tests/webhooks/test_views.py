"""The webhook settings page (ADMIN only): endpoints, inline form errors, secrets, test ping with polling, delivery
log, redelivery; roles, other org → 404, constant query counts."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditEvent
from tests.factories_okr import CycleFactory
from tests.webhooks.conftest import ALL_EVENTS
from webhooks.delivery import webhook_delivery_send
from webhooks.models import Event, WebhookDelivery, WebhookEndpoint
from webhooks.services import event_envelope

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(org, name="list", *args):
    return reverse(f"webhooks:{name}", args=[org.slug, *args])


@pytest.fixture
def web(client_for, admin):
    return client_for(admin)


def add_deliveries(endpoint, n, status=WebhookDelivery.Status.DELIVERED):
    from django.utils import timezone

    rows = []
    for _ in range(n):
        event_id = uuid.uuid4()
        payload = event_envelope(
            org=endpoint.organization,
            event_type=Event.CHECKIN_CREATED,
            data={"n": 1},
            event_id=event_id,
            at=timezone.now(),
        )
        rows.append(
            WebhookDelivery(
                organization=endpoint.organization,
                endpoint=endpoint,
                event_id=event_id,
                event_type=Event.CHECKIN_CREATED,
                payload=payload,
                status=status,
                attempts=1,
                last_status_code=200 if status == WebhookDelivery.Status.DELIVERED else 410,
            )
        )
    return WebhookDelivery.objects.bulk_create(rows)


# --- Access -----------------------------------------------------------------------------------------------------------
def test_admin_sees_the_page_with_the_receiver_docs(web, admin, make_endpoint, receiver):
    make_endpoint(receiver.url, description="Data warehouse")
    response = web.get(url(admin.organization))
    assert response.status_code == 200
    html = response.content.decode()
    assert receiver.url in html and "Data warehouse" in html
    assert 'data-testid="webhook-docs"' in html and "X-Okrapp-Signature" in html and "5 minutes" in html
    assert 'data-testid="nav-webhooks"' in html


@pytest.mark.parametrize("role_fixture", ["member", "viewer"])
def test_members_below_admin_cannot_see_or_change_webhooks(request, client_for, role_fixture, make_endpoint, receiver):
    membership = request.getfixturevalue(role_fixture)
    endpoint = make_endpoint(receiver.url)
    client = client_for(membership)
    org = membership.organization
    assert client.get(url(org)).status_code == 403
    assert client.post(url(org), {"url": "https://x.example.com/h", "events": ALL_EVENTS}).status_code == 403
    assert client.post(url(org, "secret", endpoint.public_id)).status_code == 403
    assert client.post(url(org, "delete", endpoint.public_id)).status_code == 403
    assert WebhookEndpoint.objects.count() == 1
    assert (
        'data-testid="nav-webhooks"' not in client.get(reverse("accounts:dashboard", args=[org.slug])).content.decode()
    )


def test_non_members_get_404(client_for, outsider, org):
    assert client_for(outsider).get(url(org)).status_code == 404


def test_another_orgs_endpoints_and_deliveries_are_404(web, admin, make_endpoint, receiver, other_org):
    theirs = make_endpoint(receiver.url, org=other_org)
    (delivery,) = add_deliveries(theirs, 1)
    org = admin.organization
    assert web.get(url(org, "edit", theirs.public_id)).status_code == 404
    for name in ("delete", "secret", "rotate", "ping", "active"):
        assert web.post(url(org, "set_active" if name == "active" else name, theirs.public_id)).status_code == 404
    assert web.get(url(org, "delivery", delivery.public_id)).status_code == 404
    assert web.post(url(org, "redeliver", delivery.public_id)).status_code == 404
    assert receiver.url not in web.get(url(org)).content.decode()
    assert WebhookEndpoint.objects.filter(pk=theirs.pk, is_active=True).exists()


# --- Add, edit, delete ------------------------------------------------------------------------------------------------
def test_add_an_endpoint(web, admin):
    response = web.post(
        url(admin.organization),
        {"url": "https://hooks.example.com/okr", "description": "BI", "events": ["checkin.created"]},
    )
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.url, endpoint.events, endpoint.created_by) == (
        "https://hooks.example.com/okr",
        ["checkin.created"],
        admin,
    )
    assert AuditEvent.objects.filter(verb="webhook.endpoint_created", target_id=str(endpoint.public_id)).exists()


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({"url": "http://hooks.example.com/x", "events": ALL_EVENTS}, "The URL must start with https://."),
        ({"url": "https://10.0.0.8/x", "events": ALL_EVENTS}, "Use a public address"),
        ({"url": "https://hooks.example.com/x"}, "Choose at least one event."),
        ({"url": "", "events": ALL_EVENTS}, "This field is required."),
    ],
)
def test_invalid_endpoint_shows_errors_inline(web, admin, settings, data, field_error):
    settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS = False
    response = web.post(url(admin.organization), data)
    assert response.status_code == 422
    assert field_error in response.content.decode()
    assert 'class="errorlist"' in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_same_url_twice_is_refused(web, admin, make_endpoint, receiver):
    make_endpoint(receiver.url)
    response = web.post(url(admin.organization), {"url": receiver.url, "events": ALL_EVENTS})
    assert response.status_code == 422 and "already receives events" in response.content.decode()


def test_edit_an_endpoint(web, admin, make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url)
    org = admin.organization
    assert web.get(url(org, "edit", endpoint.public_id)).status_code == 200
    bad = web.post(url(org, "edit", endpoint.public_id), {"url": "ftp://x", "events": ["ping"]})
    assert bad.status_code == 422
    html = bad.content.decode()
    assert "The URL must start with https://." in html or "Select a valid choice" in html
    response = web.post(
        url(org, "edit", endpoint.public_id),
        {"url": receiver.url + "/v2", "description": "v2", "events": ["objective.status_changed"], "is_active": ""},
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events, endpoint.is_active) == (
        receiver.url + "/v2",
        ["objective.status_changed"],
        False,
    )


def test_switch_on_and_off_and_delete(web, admin, make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url)
    org = admin.organization
    assert web.post(url(org, "set_active", endpoint.public_id), {"active": "0"}).status_code == 302
    assert not WebhookEndpoint.objects.get(pk=endpoint.pk).is_active
    assert web.post(url(org, "set_active", endpoint.public_id), {"active": "1"}).status_code == 302
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).is_active
    add_deliveries(endpoint, 3)
    assert web.post(url(org, "delete", endpoint.public_id)).status_code == 302
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()
    assert web.get(url(org, "delete", endpoint.public_id)).status_code == 405


def test_an_automatically_switched_off_endpoint_says_so(web, admin, make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=False,
        disabled_reason="Switched off automatically after 10 failed deliveries in a row (last: HTTP 410).",
    )
    html = web.get(url(admin.organization)).content.decode()
    assert 'data-testid="auto-disabled"' in html and "after 10 failed deliveries in a row" in html
    assert 'data-testid="enable"' in html


# --- Secret -----------------------------------------------------------------------------------------------------------
def test_the_secret_is_hidden_until_revealed_and_revealing_is_audited(web, admin, make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url)
    org = admin.organization
    assert endpoint.secret not in web.get(url(org)).content.decode()
    response = web.post(url(org, "secret", endpoint.public_id), **HTMX)
    assert response.status_code == 200 and endpoint.secret in response.content.decode()
    assert AuditEvent.objects.filter(verb="webhook.secret_revealed", target_id=str(endpoint.public_id)).exists()
    full = web.post(url(org, "secret", endpoint.public_id))  # without JavaScript: the web, secret shown
    assert full.status_code == 200 and endpoint.secret in full.content.decode()
    assert web.get(url(org, "secret", endpoint.public_id)).status_code == 405


def test_rotate_shows_the_new_secret(web, admin, make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url)
    response = web.post(url(admin.organization, "rotate", endpoint.public_id), {"keep_old_hours": "24"}, **HTMX)
    endpoint_now = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert response.status_code == 200
    html = response.content.decode()
    assert endpoint_now.secret != endpoint.secret and endpoint_now.secret in html
    assert endpoint_now.previous_secret == endpoint.secret and "previous secret also signs until" in html
    assert AuditEvent.objects.filter(verb="webhook.secret_rotated").exists()


# --- Ping, polling, redeliver -----------------------------------------------------------------------------------------
def test_ping_row_polls_until_the_answer_arrives(web, admin, make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url)
    org = admin.organization
    response = web.post(url(org, "ping", endpoint.public_id), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    delivery = WebhookDelivery.objects.get(event_type=Event.PING)
    poll_url = url(org, "delivery", delivery.public_id)
    assert 'data-status="pending"' in html and f'hx-get="{poll_url}"' in html and 'hx-trigger="every 2s"' in html
    assert webhook_delivery_send(delivery_id=delivery.pk) == "delivered"  # what the worker does
    row = web.get(poll_url, **HTMX).content.decode()
    assert 'data-status="delivered"' in row and "hx-trigger" not in row and "<code>200</code>" in row
    assert receiver.requests[0]["json"]["type"] == "ping"


def test_redeliver_a_failed_delivery(web, admin, make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url)
    (failed,) = add_deliveries(endpoint, 1, status=WebhookDelivery.Status.FAILED)
    response = web.post(url(admin.organization, "redeliver", failed.public_id), **HTMX)
    assert response.status_code == 200 and 'data-status="pending"' in response.content.decode()
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (WebhookDelivery.Status.PENDING, 0)
    assert AuditEvent.objects.filter(verb="webhook.redelivered").exists()


def test_redeliver_to_a_switched_off_endpoint_explains_why_not(web, admin, make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url)
    (failed,) = add_deliveries(endpoint, 1, status=WebhookDelivery.Status.FAILED)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    response = web.post(url(admin.organization, "redeliver", failed.public_id), **HTMX)
    assert "enable it before redelivering" in response.content.decode()
    assert WebhookDelivery.objects.get(pk=failed.pk).status == WebhookDelivery.Status.FAILED


def test_delivery_page_shows_the_body_and_the_last_answer(web, admin, make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url)
    (delivery,) = add_deliveries(endpoint, 1)
    html = web.get(url(admin.organization, "delivery", delivery.public_id)).content.decode()
    assert str(delivery.event_id) in html and "checkin.created" in html and "Not attempted yet." in html
    assert 'data-testid="payload"' in html and "&quot;organization&quot;" in html


# --- Query counts -----------------------------------------------------------------------------------------------------
def _queries(client, path) -> int:
    client.get(path)  # the first page view of a session also writes the session (last organization)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def test_the_page_runs_the_same_queries_for_2_or_30_deliveries(web, admin, make_endpoint, receiver):
    a, b = make_endpoint(receiver.url + "/a"), make_endpoint(receiver.url + "/b")
    add_deliveries(a, 1)
    add_deliveries(b, 1)
    few = _queries(web, url(admin.organization))
    add_deliveries(a, 14)
    add_deliveries(b, 14, status=WebhookDelivery.Status.FAILED)
    make_endpoint(receiver.url + "/c")
    many = _queries(web, url(admin.organization))
    assert few == many, (few, many)
    html = web.get(url(admin.organization)).content.decode()
    assert html.count('data-testid="delivery"') == 10  # the newest 5 of each endpoint that has any


def test_the_endpoint_page_runs_the_same_queries_for_2_or_60_deliveries(web, admin, make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url)
    add_deliveries(endpoint, 2)
    few = _queries(web, url(admin.organization, "edit", endpoint.public_id))
    add_deliveries(endpoint, 58)
    many = _queries(web, url(admin.organization, "edit", endpoint.public_id))
    assert few == many, (few, many)
    assert web.get(url(admin.organization, "edit", endpoint.public_id) + "?page=2").status_code == 200


def test_cycles_are_untouched_by_the_page(web, admin):
    CycleFactory(organization=admin.organization)  # the page works in an org that has OKRs and no endpoints
    assert 'data-testid="no-endpoints"' in web.get(url(admin.organization)).content.decode()
