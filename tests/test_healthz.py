"""/healthz: database, Redis and migrations, as JSON; 503 when any of them fails."""

import socket

import pytest
from django.db import connection
from django.urls import reverse

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def test_healthy(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok", "migrations": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_needs_no_login_and_no_org(client, member):
    # Load balancers call it anonymously; it must not depend on sessions or tenants.
    assert client.get("/healthz").status_code == 200


def test_redis_down_is_503(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
        }
    }
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail" and body["redis"] != "ok"
    assert body["database"] == "ok" and body["migrations"] == "ok"


@pytest.mark.django_db(transaction=True)
def test_database_unreachable_is_503(client):
    # Point this process's connection at a port where nothing listens; the shared server is never touched.
    connection.close()
    real_port = connection.settings_dict["PORT"]
    connection.settings_dict["PORT"] = closed_port()
    try:
        response = client.get(reverse("healthz"))
    finally:
        connection.close()
        connection.settings_dict["PORT"] = real_port
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail" and body["database"] == "OperationalError"
    assert body["redis"] == "ok"


def test_pending_migrations_are_503(client):
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(connection)
    applied = recorder.migration_qs.filter(app="accounts").order_by("-id").first()
    applied.delete()  # as if the newest accounts migration had not run yet (rolled back with the test)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["migrations"] == "1 pending"
