from rest_framework import serializers

from webhooks.models import SUBSCRIBABLE_EVENTS, WebhookDelivery, WebhookEndpoint


class WebhookEndpointSerializer(serializers.ModelSerializer):
    """An endpoint as the API shows it: never its signing secret (ask /secret for that)."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    events = serializers.ListField(child=serializers.ChoiceField(choices=SUBSCRIBABLE_EVENTS))

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "is_active",
            "consecutive_failures",
            "disabled_at",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["consecutive_failures", "disabled_at", "disabled_reason", "created_at", "updated_at"]


class WebhookEndpointWriteSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=500)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    events = serializers.ListField(child=serializers.ChoiceField(choices=SUBSCRIBABLE_EVENTS), allow_empty=False)


class WebhookEndpointUpdateSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=500, required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE_EVENTS), allow_empty=False, required=False
    )
    is_active = serializers.BooleanField(required=False)


class RotateSecretSerializer(serializers.Serializer):
    keep_old_hours = serializers.IntegerField(
        min_value=0, max_value=72, default=24, help_text="How long the old secret keeps signing too (0 = stop now)."
    )


class SecretSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="The signing secret (whsec_…), the HMAC-SHA256 key.")
    previous_secret_expires_at = serializers.DateTimeField(allow_null=True)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    endpoint = serializers.UUIDField(source="endpoint.public_id", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "next_attempt_at",
            "last_attempt_at",
            "last_status_code",
            "last_error",
            "last_duration_ms",
            "delivered_at",
            "created_at",
            "payload",
        ]
        read_only_fields = fields
