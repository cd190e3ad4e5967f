import uuid

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from accounts.models import Role
from checkins import services
from checkins.api.serializers import CheckInCreatedSerializer, CheckInSerializer, CheckInWriteSerializer
from checkins.forecast import KrShape, progress_for_value
from checkins.models import CheckIn
from objectives.models import KeyResult
from objectives.selectors import visible_key_results
from okrapp.api.viewsets import OrgScopedViewSet

KEY_RESULT_PARAM = OpenApiParameter(
    "key_result_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The key result's id."
)


@extend_schema_view(
    list=extend_schema(
        summary="A key result's check-in history",
        description="Every check-in, newest first, including those a later check-in in the same week superseded.",
        parameters=[KEY_RESULT_PARAM],
        responses={200: CheckInSerializer(many=True), 404: OpenApiResponse(description="No such key result.")},
    ),
    create=extend_schema(
        summary="Check in a value",
        description=(
            "Record a new value (and optionally confidence 0–10 and a comment) for a key result, as its owner or an "
            "admin. Milestones take 0/1, or the number of steps done for staged milestones. The KR's current "
            "value and progress are returned. After the cycle closed the check-in is kept and flagged late."
        ),
        parameters=[KEY_RESULT_PARAM],
        request=CheckInWriteSerializer,
        responses={
            201: CheckInCreatedSerializer,
            400: OpenApiResponse(description="Invalid value, confidence or comment; errors by field name."),
            403: OpenApiResponse(description="Only the KR's owner or an admin may check in."),
            404: OpenApiResponse(description="No such key result."),
        },
    ),
)
class KeyResultCheckInViewSet(mixins.ListModelMixin, OrgScopedViewSet):
    """`/key-results/<key_result_id>/check-ins`: history (GET) and new values from scripts (POST)."""

    model = CheckIn
    serializer_class = CheckInSerializer
    required_roles = {"list": Role.VIEWER, "create": Role.MEMBER}

    def _key_result(self, *, lock: bool = False) -> KeyResult:
        if not hasattr(self, "_kr"):
            try:
                public_id = uuid.UUID(str(self.kwargs["key_result_id"]))
            except ValueError:
                raise NotFound("No such key result.") from None
            # A KR the caller may not see is as absent as one from another organization.
            qs = visible_key_results(self.request.organization, self.request.membership).select_related(
                "objective__cycle"
            )
            if lock:  # a check-in: read and lock the KR once (checkin_submit(locked=True) does not read it again)
                qs = qs.select_for_update(of=("self",))
            self._kr = get_object_or_404(qs, public_id=public_id)
        return self._kr

    def scope_queryset(self, qs):
        return qs.filter(key_result=self._key_result()).select_related("key_result", "author__user")

    @transaction.atomic
    def create(self, request, *args, **kwargs):
        key_result = self._key_result(lock=True)
        serializer = CheckInWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            checkin = services.checkin_submit(
                org=request.organization,
                actor=request.membership,
                key_result=key_result,
                locked=True,
                **serializer.validated_data,
            )
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
            if NON_FIELD_ERRORS in errors:
                errors["non_field_errors"] = errors.pop(NON_FIELD_ERRORS)
            raise ValidationError(errors) from None
        checkin.key_result_state = {
            "id": key_result.public_id,
            "current": key_result.current,
            "confidence": key_result.confidence,
            "progress": round(progress_for_value(KrShape.of(key_result), key_result.current), 4),
            "last_checkin_at": key_result.last_checkin_at,
        }
        return Response(CheckInCreatedSerializer(checkin).data, status=status.HTTP_201_CREATED)
