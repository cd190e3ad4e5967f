"""Webhooks API (ADMIN only): endpoints, their secret, test pings, and the delivery log with redelivery."""

import uuid
from datetime import timedelta

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.audit import client_ip
from accounts.models import Role
from okrapp.api.viewsets import OrgScopedViewSet
from webhooks import services
from webhooks.api.serializers import (
    RotateSecretSerializer,
    SecretSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointSerializer,
    WebhookEndpointUpdateSerializer,
    WebhookEndpointWriteSerializer,
)
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.selectors import SECRET_FIELDS

ADMIN_ONLY = Role.ADMIN


@extend_schema_view(
    create=extend_schema(request=WebhookEndpointWriteSerializer, responses={201: WebhookEndpointSerializer}),
    partial_update=extend_schema(request=WebhookEndpointUpdateSerializer, responses=WebhookEndpointSerializer),
    secret=extend_schema(request=None, responses=SecretSerializer),
    rotate_secret=extend_schema(request=RotateSecretSerializer, responses=SecretSerializer),
    ping=extend_schema(request=None, responses={202: WebhookDeliverySerializer}),
)
class WebhookEndpointViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, OrgScopedViewSet
):
    """Outbound webhook endpoints of the organization (ADMIN)."""

    model = WebhookEndpoint
    serializer_class = WebhookEndpointSerializer
    required_roles = dict.fromkeys(
        ("list", "retrieve", "create", "partial_update", "destroy", "secret", "rotate_secret", "ping"),
        ADMIN_ONLY,
    )

    def scope_queryset(self, qs):
        if self.action in ("secret", "rotate_secret"):
            return qs
        return qs.defer(*SECRET_FIELDS)

    def _kwargs(self, request):
        return {"org": request.organization, "actor": request.membership, "ip": client_ip(request)}

    def create(self, request, *args, **kwargs):
        data = WebhookEndpointWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_create(**self._kwargs(request), **data.validated_data)
        return Response(WebhookEndpointSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        data = WebhookEndpointUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_update(
            **self._kwargs(request), endpoint=self.get_object(), **data.validated_data
        )
        return Response(WebhookEndpointSerializer(endpoint).data)

    def perform_destroy(self, instance):
        services.webhook_endpoint_delete(**self._kwargs(self.request), endpoint=instance)

    @action(detail=True, methods=["post"])
    def secret(self, request, *args, **kwargs):
        """The signing secret in clear (audited)."""
        endpoint = self.get_object()
        secret = services.webhook_endpoint_reveal_secret(**self._kwargs(request), endpoint=endpoint)
        return Response({"secret": secret, "previous_secret_expires_at": endpoint.previous_secret_expires_at})

    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, *args, **kwargs):
        """A new signing secret; the old one signs alongside it for `keep_old_hours` (default 24)."""
        data = RotateSecretSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = self.get_object()
        secret = services.webhook_endpoint_rotate_secret(
            **self._kwargs(request),
            endpoint=endpoint,
            keep_old_for=timedelta(hours=data.validated_data["keep_old_hours"]),
        )
        endpoint.refresh_from_db()
        return Response({"secret": secret, "previous_secret_expires_at": endpoint.previous_secret_expires_at})

    @action(detail=True, methods=["post"])
    def ping(self, request, *args, **kwargs):
        """Queue a `ping` event to this endpoint; poll the returned delivery for the answer."""
        delivery = services.webhook_ping(org=request.organization, actor=request.membership, endpoint=self.get_object())
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "endpoint", OpenApiTypes.UUID, OpenApiParameter.QUERY, description="Only this endpoint's."
            ),
            OpenApiParameter(
                "status", OpenApiTypes.STR, OpenApiParameter.QUERY, enum=list(WebhookDelivery.Status.values)
            ),
        ]
    ),
    redeliver=extend_schema(request=None, responses={202: WebhookDeliverySerializer}),
)
class WebhookDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgScopedViewSet):
    """The delivery log: one row per (endpoint, event), newest first (ADMIN)."""

    model = WebhookDelivery
    serializer_class = WebhookDeliverySerializer
    required_roles = {"list": ADMIN_ONLY, "retrieve": ADMIN_ONLY, "redeliver": ADMIN_ONLY}

    def scope_queryset(self, qs):
        qs = qs.select_related("endpoint").defer(*(f"endpoint__{f}" for f in SECRET_FIELDS))
        if self.action == "list":
            params = self.request.query_params
            if params.get("endpoint"):
                # Like the other API filters: an id that is no endpoint of this organization is a 400 naming it.
                try:
                    endpoint = WebhookEndpoint.objects.for_org(self.request.organization).get(
                        public_id=uuid.UUID(params["endpoint"])
                    )
                except (ValueError, WebhookEndpoint.DoesNotExist):
                    raise ValidationError({"endpoint": ["No such endpoint in this organization."]}) from None
                qs = qs.filter(endpoint=endpoint)
            if params.get("status"):
                if params["status"] not in WebhookDelivery.Status.values:
                    choices = ", ".join(WebhookDelivery.Status.values)
                    raise ValidationError({"status": [f"Choose one of: {choices}."]})
                qs = qs.filter(status=params["status"])
        return qs

    @action(detail=True, methods=["post"])
    def redeliver(self, request, *args, **kwargs):
        """Send this delivery again (same body and delivery id) with a fresh set of attempts."""
        delivery = services.webhook_redeliver(
            org=request.organization, actor=request.membership, delivery=self.get_object(), ip=client_ip(request)
        )
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
