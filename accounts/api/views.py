from rest_framework import mixins, status
from rest_framework.response import Response

from accounts import services
from accounts.api.serializers import MembershipSerializer, TeamSerializer
from accounts.models import Membership, Role, Team
from okrapp.api.viewsets import OrgScopedViewSet


class MembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgScopedViewSet):
    """People in the organization (read-only; roles are managed on the People page)."""

    model = Membership
    serializer_class = MembershipSerializer
    required_roles = {"list": Role.VIEWER, "retrieve": Role.VIEWER}

    def scope_queryset(self, qs):
        return qs.select_related("user", "organization")


class TeamViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    OrgScopedViewSet,
):
    model = Team
    serializer_class = TeamSerializer
    required_roles = {
        "list": Role.VIEWER,
        "retrieve": Role.VIEWER,
        "create": Role.ADMIN,
        "update": Role.ADMIN,
        "partial_update": Role.ADMIN,
        "destroy": Role.ADMIN,
    }

    def scope_queryset(self, qs):
        return qs.select_related("parent", "lead").prefetch_related("members")

    def perform_create(self, serializer):
        serializer.instance = self._save(serializer)

    def perform_update(self, serializer):
        serializer.instance = self._save(serializer, team=serializer.instance)

    def _save(self, serializer, team=None):
        data = dict(serializer.validated_data)
        if team is not None:  # PATCH keeps what it does not mention
            data.setdefault("name", team.name)
            data.setdefault("parent", team.parent)
            data.setdefault("lead", team.lead)
        # A service ValidationError becomes a 400 with field names (okrapp.api.errors).
        return services.team_save(actor=self.request.membership, team=team, **data)

    def destroy(self, request, *args, **kwargs):
        services.team_delete(actor=request.membership, team=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
