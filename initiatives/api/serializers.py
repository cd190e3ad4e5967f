from rest_framework import serializers

from accounts.models import Membership
from initiatives.models import Initiative


class InitiativeWriteSerializer(serializers.Serializer):
    key_result = serializers.UUIDField(help_text="The key result this initiative should move.")
    title = serializers.CharField(max_length=200)
    hypothesis = serializers.CharField(required=False, allow_blank=True, help_text="Why this should move the KR.")
    owner = serializers.SlugRelatedField(
        slug_field="public_id",
        queryset=Membership.objects.none(),
        required=False,
        allow_null=True,
        help_text="Defaults to the caller on create.",
    )
    status = serializers.ChoiceField(choices=Initiative.Status.choices, required=False)
    due_date = serializers.DateField(required=False, allow_null=True)
    progress = serializers.IntegerField(min_value=0, max_value=100, required=False)
    position = serializers.IntegerField(min_value=0, max_value=100000, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        org = getattr(self.context.get("request"), "organization", None)
        if org is not None:
            self.fields["owner"].queryset = Membership.objects.for_org(org).filter(is_active=True)


class InitiativeUpdateSerializer(InitiativeWriteSerializer):
    key_result = serializers.UUIDField(required=False, help_text="Move the initiative to another KR.")
    title = serializers.CharField(max_length=200, required=False)
