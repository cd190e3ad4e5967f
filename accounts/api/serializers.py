from rest_framework import serializers

from accounts.models import Membership, Role, Team


class MembershipSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    name = serializers.CharField(source="user.display_name", read_only=True)
    role = serializers.ChoiceField(choices=[r.name.lower() for r in Role], read_only=True, source="role_name")
    is_active = serializers.BooleanField(read_only=True)
    timezone = serializers.CharField(source="effective_timezone", read_only=True)


class TeamSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    name = serializers.CharField(max_length=120)
    parent = serializers.SlugRelatedField(
        slug_field="public_id", queryset=Team.objects.none(), required=False, allow_null=True
    )
    lead = serializers.SlugRelatedField(
        slug_field="public_id", queryset=Membership.objects.none(), required=False, allow_null=True
    )
    members = serializers.SlugRelatedField(
        slug_field="public_id", queryset=Membership.objects.none(), many=True, required=False
    )
    created_at = serializers.DateTimeField(read_only=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        org = getattr(request, "organization", None)
        if org is not None:
            # Related ids resolve inside the caller's organization only.
            self.fields["parent"].queryset = Team.objects.for_org(org)
            people = Membership.objects.for_org(org).filter(is_active=True)
            self.fields["lead"].queryset = people
            self.fields["members"].child_relation.queryset = people
