"""The API's front door: `GET /api/v1/o/<org>/` lists what a script can reach, and any other unknown /api/ path
answers a JSON 404 (a script should never have to parse an HTML error page)."""

from django.http import JsonResponse
from django.urls import Resolver404, resolve, reverse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from okrapp.api.viewsets import HasOrgRole

# (name in the answer, URL name); every one takes only the org slug.
RESOURCES = (
    ("me", "api-me"),
    ("cycles", "api-cycles-list"),
    ("objectives", "api-objectives-list"),
    ("key_results", "api-key-results-list"),
    ("initiatives", "api-initiatives-list"),
    ("contributions", "api-contributions-list"),
    ("map", "api-map"),
    ("members", "api-members-list"),
    ("teams", "api-teams-list"),
    ("webhook_endpoints", "api-webhook-endpoints-list"),
    ("webhook_deliveries", "api-webhook-deliveries-list"),
)


class ApiRootView(APIView):
    """Links to this organization's collections, the OpenAPI schema and its docs."""

    permission_classes = [IsAuthenticated, HasOrgRole]

    def required_role(self, request) -> Role:
        return Role.VIEWER

    @extend_schema(
        operation_id="api_root",
        responses=inline_serializer(
            "ApiRoot",
            {
                "organization": serializers.CharField(),
                "resources": serializers.DictField(child=serializers.URLField()),
                "schema": serializers.URLField(),
                "docs": serializers.URLField(),
            },
        ),
    )
    def get(self, request, org_slug=None):
        link = request.build_absolute_uri
        return Response(
            {
                "organization": request.organization.slug,
                "resources": {key: link(reverse(name, args=[org_slug])) for key, name in RESOURCES},
                "schema": link(reverse("api-schema")),
                "docs": link(reverse("api-docs")),
            }
        )


@csrf_exempt  # it changes nothing; without this an unknown POST/PATCH path answered 403 "CSRF failed" in HTML
def api_not_found(request, path=""):
    """Catch-all for /api/… and every method: the same JSON body DRF gives a missing object. API paths have no
    trailing slash; when the path without it is an endpoint, the answer says so."""
    detail = "Not found."
    if path.endswith("/") and path.strip("/"):
        bare = "/api/" + path.rstrip("/")
        try:
            match = resolve(bare)
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            detail = f"Not found. API paths have no trailing slash: did you mean {bare}?"
    return JsonResponse({"detail": detail}, status=404)
