"""The webhooks API (ADMIN): endpoints, secret, ping, deliveries with redelivery; roles and query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditEvent
from tests.webhooks.test_views import add_deliveries
from webhooks.delivery import webhook_delivery_send
from webhooks.models import WebhookDelivery, WebhookEndpoint


def base(org):
    return f"/api/v1/o/{org.slug}/webhooks"


@pytest.fixture
def api(api_client_for, admin):
    return api_client_for(admin)


def test_endpoint_lifecycle(api, admin, receiver):
    org = admin.organization
    created = api.post(f"{base(org)}/endpoints", {"url": receiver.url, "events": ["checkin.created"]}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["url"] == receiver.url and body["events"] == ["checkin.created"] and body["is_active"] is True
    assert "secret" not in body
    endpoint_id = body["id"]
    listed = api.get(f"{base(org)}/endpoints").json()["results"]
    assert [e["id"] for e in listed] == [endpoint_id] and "secret" not in listed[0]
    patched = api.patch(
        f"{base(org)}/endpoints/{endpoint_id}", {"description": "BI", "is_active": False}, format="json"
    )
    assert patched.status_code == 200 and patched.json()["description"] == "BI" and not patched.json()["is_active"]
    secret = api.post(f"{base(org)}/endpoints/{endpoint_id}/secret").json()["secret"]
    assert secret == WebhookEndpoint.objects.get(public_id=endpoint_id).secret
    rotated = api.post(f"{base(org)}/endpoints/{endpoint_id}/rotate-secret", {"keep_old_hours": 0}, format="json")
    assert rotated.status_code == 200 and rotated.json()["secret"] not in (secret, None)
    assert rotated.json()["previous_secret_expires_at"] is None
    ping = api.post(f"{base(org)}/endpoints/{endpoint_id}/ping")
    assert ping.status_code == 202 and ping.json()["event_type"] == "ping" and ping.json()["status"] == "pending"
    assert api.delete(f"{base(org)}/endpoints/{endpoint_id}").status_code == 204
    assert not WebhookEndpoint.objects.exists()
    assert AuditEvent.objects.filter(verb="webhook.endpoint_deleted").exists()


def test_validation_errors_name_the_field(api, admin, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS = False
    response = api.post(
        f"{base(admin.organization)}/endpoints", {"url": "http://10.0.0.1/x", "events": []}, format="json"
    )
    assert response.status_code == 400 and "events" in response.json()
    response = api.post(
        f"{base(admin.organization)}/endpoints", {"url": "https://10.0.0.1/x", "events": ["ping"]}, format="json"
    )
    assert response.status_code == 400 and "events" in response.json()  # ping is not subscribable
    response = api.post(
        f"{base(admin.organization)}/endpoints",
        {"url": "https://10.0.0.1/x", "events": ["checkin.created"]},
        format="json",
    )
    assert response.status_code == 400 and response.json()["url"] == [
        "Use a public address; private, loopback and link-local addresses are not allowed."
    ]


def test_members_cannot_use_the_webhooks_api(api_client_for, member):
    client = api_client_for(member)
    assert client.get(f"{base(member.organization)}/endpoints").status_code == 403
    assert client.get(f"{base(member.organization)}/deliveries").status_code == 403


def test_deliveries_list_filter_and_redeliver(api, admin, make_endpoint, receiver):
    org = admin.organization
    a, b = make_endpoint(receiver.url + "/a"), make_endpoint(receiver.url + "/b")
    add_deliveries(a, 2)
    (failed,) = add_deliveries(b, 1, status=WebhookDelivery.Status.FAILED)
    assert len(api.get(f"{base(org)}/deliveries").json()["results"]) == 3
    only_b = api.get(f"{base(org)}/deliveries", {"endpoint": str(b.public_id)}).json()["results"]
    assert [d["id"] for d in only_b] == [str(failed.public_id)] and only_b[0]["endpoint"] == str(b.public_id)
    assert len(api.get(f"{base(org)}/deliveries", {"status": "delivered"}).json()["results"]) == 2
    assert api.get(f"{base(org)}/deliveries", {"status": "nope"}).status_code == 400
    assert api.get(f"{base(org)}/deliveries", {"endpoint": "nope"}).status_code == 400
    redelivered = api.post(f"{base(org)}/deliveries/{failed.public_id}/redeliver")
    assert redelivered.status_code == 202 and redelivered.json()["status"] == "pending"
    assert webhook_delivery_send(delivery_id=failed.pk) == "delivered"
    assert api.get(f"{base(org)}/deliveries/{failed.public_id}").json()["status"] == "delivered"


def test_deliveries_list_runs_the_same_queries_for_2_or_30(api, admin, make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url)
    add_deliveries(endpoint, 2)
    url = f"{base(admin.organization)}/deliveries"
    api.get(url)  # the token's last-used stamp is written on the first call

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(url).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    add_deliveries(endpoint, 28)
    assert count() == few
