"""Initiatives API: the bets under each key result, read through the objectives' privacy filter."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from accounts.models import Membership, Role
from initiatives import services
from initiatives.api.serializers import InitiativeUpdateSerializer, InitiativeWriteSerializer
from initiatives.models import Initiative
from objectives import selectors
from objectives.api.renderers import ORJSONRenderer
from objectives.api.serializers import InitiativeOutSerializer, initiative_out
from objectives.api.views import FilterMixin
from objectives.assembly import Context
from objectives.models import KeyResult
from objectives.permissions import can_create, can_edit_initiative
from objectives.selectors import INITIATIVE_VALUES, initiative_dicts
from okrapp.api.viewsets import OrgScopedViewSet


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("key_result", OpenApiTypes.UUID, OpenApiParameter.QUERY, description="Only this KR's."),
            OpenApiParameter("owner", OpenApiTypes.UUID, OpenApiParameter.QUERY, description="Only this member's."),
            OpenApiParameter("status", OpenApiTypes.STR, OpenApiParameter.QUERY, enum=list(Initiative.Status.values)),
        ],
        responses=InitiativeOutSerializer(many=True),
    ),
    retrieve=extend_schema(responses=InitiativeOutSerializer),
    create=extend_schema(request=InitiativeWriteSerializer, responses={201: InitiativeOutSerializer}),
    update=extend_schema(request=InitiativeUpdateSerializer, responses=InitiativeOutSerializer),
    partial_update=extend_schema(request=InitiativeUpdateSerializer, responses=InitiativeOutSerializer),
)
class InitiativeViewSet(FilterMixin, OrgScopedViewSet):
    """Initiatives. MEMBERs add them to KRs they can see; the initiative's, KR's or objective's owner or an ADMIN
    edits them."""

    renderer_classes = [ORJSONRenderer]
    model = Initiative
    serializer_class = InitiativeWriteSerializer
    required_roles = {
        "list": Role.VIEWER,
        "retrieve": Role.VIEWER,
        "create": Role.MEMBER,
        "update": Role.MEMBER,
        "partial_update": Role.MEMBER,
        "destroy": Role.MEMBER,
    }

    def scope_queryset(self, qs):
        return qs.filter(selectors.visibility_q(self.request.membership, "key_result__objective__")).select_related(
            "key_result__objective", "key_result__owner", "owner__user"
        )

    def _out(self, rows) -> list[dict]:
        today = Context.for_org(self.request.organization).today
        grouped = initiative_dicts(rows, today)
        by_pk = {i["pk"]: i for items in grouped.values() for i in items}
        return [initiative_out(by_pk[r["id"]]) for r in rows]

    def _one(self, initiative: Initiative, code=status.HTTP_200_OK) -> Response:
        rows = list(
            Initiative.objects.for_org(self.request.organization).filter(pk=initiative.pk).values(*INITIATIVE_VALUES)
        )
        return Response(self._out(rows)[0], status=code)

    def _editable(self) -> Initiative:
        initiative = self.get_object()
        if not can_edit_initiative(self.request.membership, initiative):
            raise PermissionDenied(
                "Only the initiative's owner, the KR's or objective's owner or an admin can change it."
            )
        return initiative

    def _key_result(self, public_id) -> KeyResult:
        org, membership = self.request.organization, self.request.membership
        try:
            return selectors.visible_key_results(org, membership).select_related("objective").get(public_id=public_id)
        except KeyResult.DoesNotExist:
            raise ValidationError({"key_result": ["No such key result in this organization."]}) from None

    def list(self, request, org_slug=None):
        org, membership = request.organization, request.membership
        qs = selectors.visible_initiatives(org, membership)
        kr = self._lookup("key_result", selectors.visible_key_results(org, membership))
        owner = self._lookup("owner", Membership.objects.for_org(org))
        status_ = self._choice("status", Initiative.Status.values)
        if kr:
            qs = qs.filter(key_result=kr)
        if owner:
            qs = qs.filter(owner=owner)
        if status_:
            qs = qs.filter(status=status_)
        rows = self.paginate_queryset(qs.values(*INITIATIVE_VALUES))
        return self.get_paginated_response(self._out(rows))

    def retrieve(self, request, org_slug=None, public_id=None):
        return self._one(self.get_object())

    def create(self, request, org_slug=None):
        body = InitiativeWriteSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        kr = self._key_result(data.pop("key_result"))
        if not can_create(request.membership):
            raise PermissionDenied()
        if "owner" not in data:
            data["owner"] = request.membership
        initiative = services.initiative_create(
            org=request.organization, actor=request.membership, key_result=kr, **data
        )
        return self._one(initiative, code=status.HTTP_201_CREATED)

    def update(self, request, org_slug=None, public_id=None, partial=False):
        initiative = self._editable()
        body = InitiativeUpdateSerializer(data=request.data, partial=partial, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = {k: v for k, v in body.validated_data.items() if not partial or k in body.initial_data}
        if data.get("key_result"):
            data["key_result"] = self._key_result(data["key_result"])
        else:
            data.pop("key_result", None)
        services.initiative_update(org=request.organization, actor=request.membership, initiative=initiative, **data)
        return self._one(initiative)

    def partial_update(self, request, org_slug=None, public_id=None):
        return self.update(request, org_slug, public_id, partial=True)

    def destroy(self, request, org_slug=None, public_id=None):
        services.initiative_delete(org=request.organization, actor=request.membership, initiative=self._editable())
        return Response(status=status.HTTP_204_NO_CONTENT)
