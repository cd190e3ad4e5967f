"""The base API viewset: tenant resolved from the URL, queryset scoped, role checked per action."""

from rest_framework import viewsets
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission, IsAuthenticated

from accounts.models import ApiToken, Role
from okrapp.tenancy import resolve_membership


class HasOrgRole(BasePermission):
    def has_permission(self, request, view) -> bool:
        slug = view.kwargs["org_slug"]
        token = request.auth if isinstance(request.auth, ApiToken) else None
        if token is not None and token.organization.slug != slug:
            # A token belongs to one organization; under another org's URL it is as if the org did not exist.
            raise NotFound("No such organization.")
        if token is not None and token.membership.organization_id == token.organization_id:
            # The token lookup already read its active membership and organization: no second query.
            membership = token.membership
            membership.organization = token.organization
        else:
            membership = resolve_membership(request.user, slug)
        request.organization, request.membership = membership.organization, membership
        return membership.role >= view.required_role(request)


class OrgScopedViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, HasOrgRole]
    lookup_field = "public_id"
    # Public ids are UUIDs: anything else is "no such object" (404) at routing, not a failed cast further down.
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    model = None
    required_roles: dict = {}  # e.g. {"list": Role.VIEWER, "create": Role.MEMBER}

    def required_role(self, request) -> Role:
        return self.required_roles.get(self.action, Role.OWNER)  # unlisted actions need the top role

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:  # PostHog-style guard: the scoped path is the only path
            raise TypeError(f"{cls.__name__}: override scope_queryset(), not get_queryset()")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular introspection: no request org
            return self.model.objects.none()
        return self.scope_queryset(self.model.objects.for_org(self.request.organization))

    def scope_queryset(self, qs):
        return qs
