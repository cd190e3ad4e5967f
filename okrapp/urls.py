from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from accounts import views as accounts_views
from checkins import nudge_views
from okrapp import views
from okrapp.api.root import api_not_found

urlpatterns = [
    path("", accounts_views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("dev/outbox/", views.dev_outbox, name="dev_outbox"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("orgs/new/", accounts_views.organization_create, name="organization_create"),
    path("invitations/<str:token>/", accounts_views.invitation_accept, name="invitation_accept"),
    # One-step check-in from a nudge email: no org in the URL, the signed token carries member, org and week.
    path("checkin/<str:token>/", nudge_views.nudge_checkin, name="nudge_checkin"),
    path("o/<slug:org_slug>/", include("accounts.urls")),
    path("o/<slug:org_slug>/", include("objectives.urls")),
    path("o/<slug:org_slug>/", include("objectives.map_urls")),  # namespace "okrmap" (alignment map)
    path("o/<slug:org_slug>/", include("initiatives.urls")),
    path("o/<slug:org_slug>/", include("checkins.urls")),
    path("o/<slug:org_slug>/", include("checkins.nudge_urls")),  # namespace "nudges" (org check-in settings)
    path("o/<slug:org_slug>/", include("webhooks.urls")),  # namespace "webhooks" (outbound webhook settings)
    path("api/v1/o/<slug:org_slug>/", include("okrapp.api.urls")),
    path("api/v1/o/<slug:org_slug>/", include("webhooks.api.urls")),  # api-webhook-endpoints/-deliveries
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", views.ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^api/(?P<path>.*)$", api_not_found),  # last: unknown API paths answer JSON, not an HTML page
]

handler400 = "okrapp.errors.bad_request"
handler403 = "okrapp.errors.permission_denied"
handler404 = "okrapp.errors.page_not_found"
handler500 = "okrapp.errors.server_error"
