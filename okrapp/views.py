"""Site-wide views: health check and the dev outbox."""

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView

from accounts.models import OutboxMessage


def _check_database() -> tuple[bool, str]:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
        return True, "ok"
    except Exception as exc:  # any failure is "not healthy", reported rather than raised
        return False, type(exc).__name__


def _check_redis() -> tuple[bool, str]:
    try:
        cache.set("healthz", "1", 5)
        return cache.get("healthz") == "1", "ok"
    except Exception as exc:
        return False, type(exc).__name__


def _check_migrations() -> tuple[bool, str]:
    try:
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        return not plan, "ok" if not plan else f"{len(plan)} pending"
    except Exception as exc:
        return False, type(exc).__name__


@never_cache
@transaction.non_atomic_requests  # with ATOMIC_REQUESTS a dead database would fail before the check could report it
def healthz(request):
    """JSON status of the database, Redis and migrations; 503 when any fails (for load balancers)."""
    checks = {"database": _check_database(), "redis": _check_redis(), "migrations": _check_migrations()}
    healthy = all(ok for ok, _ in checks.values())
    body = {"status": "ok" if healthy else "fail", **{name: detail for name, (_, detail) in checks.items()}}
    return JsonResponse(body, status=200 if healthy else 503)


def dev_outbox(request):
    """Every email the dev backend sent, newest first (make run and browser tests only)."""
    if not settings.DEV_OUTBOX_ENABLED:
        raise Http404
    messages_sent = OutboxMessage.objects.all()[:50]  # tenancy: system (dev-only mail copies, no tenant data)
    return render(request, "okrapp/outbox.html", {"messages_sent": messages_sent})


class ApiDocsView(SpectacularRedocView):
    """/api/docs/: Redoc from our static files. Its search index runs in a Web Worker that Redoc creates from a
    blob: URL, so this page (only) allows `worker-src blob:` on top of the site's CSP (the middleware keeps a CSP
    the view has set)."""

    @extend_schema(exclude=True)  # a page about the API, not part of it (as drf-spectacular's own views)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response.headers["Content-Security-Policy"] = f"{settings.CONTENT_SECURITY_POLICY}; worker-src 'self' blob:"
        return response
