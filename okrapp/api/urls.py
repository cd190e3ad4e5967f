"""All API routes under /api/v1/o/<org_slug>/; each app contributes its router's urls."""

from accounts.api.urls import urlpatterns as accounts_urls

urlpatterns = [*accounts_urls]
