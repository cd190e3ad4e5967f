"""All API routes under /api/v1/o/<org_slug>/; each app contributes its router's urls."""

from django.urls import path

from accounts.api.urls import urlpatterns as accounts_urls
from checkins.api.urls import urlpatterns as checkins_urls
from initiatives.api.urls import urlpatterns as initiatives_urls
from objectives.api.map import urlpatterns as map_urls
from objectives.api.urls import urlpatterns as objectives_urls
from okrapp.api.root import ApiRootView

urlpatterns = [
    path("", ApiRootView.as_view(), name="api-root"),
    *accounts_urls,
    *checkins_urls,
    *objectives_urls,
    *initiatives_urls,
    *map_urls,
]
