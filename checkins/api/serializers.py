from rest_framework import serializers

from checkins.services import COMMENT_MAX_LENGTH


class CheckInWriteSerializer(serializers.Serializer):
    """What a script sends. The value is checked against the KR's kind by checkins.services (400 on `value`)."""

    value = serializers.DecimalField(max_digits=18, decimal_places=4, coerce_to_string=False)
    confidence = serializers.IntegerField(min_value=0, max_value=10, required=False, allow_null=True)
    comment = serializers.CharField(max_length=COMMENT_MAX_LENGTH, required=False, allow_blank=True, default="")


class CheckInSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    key_result = serializers.UUIDField(source="key_result.public_id", read_only=True)
    value = serializers.DecimalField(max_digits=18, decimal_places=4, coerce_to_string=False, read_only=True)
    confidence = serializers.IntegerField(read_only=True, allow_null=True)
    comment = serializers.CharField(read_only=True)
    week_start = serializers.DateField(read_only=True, help_text="Monday of the ISO week the check-in counts for.")
    is_late = serializers.BooleanField(read_only=True, help_text="Made after the cycle closed or ended.")
    author = serializers.UUIDField(source="author.public_id", read_only=True, allow_null=True)
    author_email = serializers.EmailField(source="author.user.email", read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)


class KeyResultStateSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    current = serializers.DecimalField(max_digits=18, decimal_places=4, coerce_to_string=False, read_only=True)
    confidence = serializers.IntegerField(read_only=True, allow_null=True)
    progress = serializers.FloatField(read_only=True, help_text="0.0–1.0, computed from baseline, target and current.")
    last_checkin_at = serializers.DateTimeField(read_only=True, allow_null=True)


class CheckInCreatedSerializer(CheckInSerializer):
    key_result_state = KeyResultStateSerializer(read_only=True, help_text="The KR after this check-in.")
