"""GET /api/v1/o/<org>/map?cycle=<uuid>[&team=<uuid>][&signal=<code>][&detail=signals]: the alignment map as one
JSON tree (compact by default: signal codes, owners and teams by id; reasons in words with `detail=signals`).

The tree is assembled by objectives.map as plain dicts (each KR's progress, signal codes and initiative counts come
from PostgreSQL) and serialized with orjson straight into the response (no serializer on the hot path: DESIGN.md
§10). The serializers below only document the shape for the OpenAPI schema.
"""

import orjson
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from accounts.models import Role, Team
from objectives import map as okr_map
from objectives import selectors
from objectives.models import Cycle
from okrapp.api.viewsets import HasOrgRole

STATUS_CHOICES = ["on_track", "at_risk", "off_track", "stale", "none"]


# --- Schema only --------------------------------------------------------------------------------------------------
class _Ref(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class MapPersonSerializer(serializers.Serializer):
    name = serializers.CharField()
    initials = serializers.CharField()


class MapSignalInfoSerializer(serializers.Serializer):
    label = serializers.CharField()
    level = serializers.ChoiceField(choices=["green", "amber", "red", "grey", "purple"])


def _signal_codes() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(),
        help_text="Health signal codes other than the pace status (label and colour: the top-level `signals`).",
    )


REASONS_HELP = "Only with `detail=signals`: signal code → why it fired, in words."
STATUS_REASON_HELP = "Only with `detail=signals`: why the node has its colour."


class MapContributorSerializer(serializers.Serializer):
    objective_id = serializers.UUIDField()
    objective_title = serializers.CharField()
    weight = serializers.FloatField()


class MapContributionSerializer(serializers.Serializer):
    key_result_id = serializers.UUIDField()
    key_result_title = serializers.CharField()
    objective_id = serializers.UUIDField(help_text="The objective that owns the key result.")
    weight = serializers.FloatField()


@extend_schema_field({"type": "array", "items": {"$ref": "#/components/schemas/MapObjective"}})
class _ObjectiveList(serializers.ListField):
    """Nested MapObjective nodes (the schema is recursive)."""


class MapKeyResultSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    kind = serializers.CharField()
    kr_status = serializers.ChoiceField(choices=["draft", "active", "closed"])
    owner = serializers.UUIDField(allow_null=True, help_text="A key of the top-level `people`.")
    confidence = serializers.IntegerField(allow_null=True, help_text="The owner's latest confidence, 0-10.")
    progress = serializers.FloatField(help_text="0-1, computed from baseline/target/current.")
    status = serializers.ChoiceField(choices=STATUS_CHOICES, help_text="Map colour; stale overrides the pace.")
    signals = _signal_codes()
    initiatives = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Initiative counts by status, only the statuses present (not_started, in_progress, blocked, done, "
        "cancelled); cancelled ones are not bets.",
    )
    weight = serializers.FloatField()
    children = _ObjectiveList(child=serializers.DictField(), help_text="Objectives aligned to this key result.")
    contributors = MapContributorSerializer(many=True, help_text="Objectives that also contribute (extra edges).")
    status_reason = serializers.CharField(required=False, help_text=STATUS_REASON_HELP)
    reasons = serializers.DictField(child=serializers.CharField(), required=False, help_text=REASONS_HELP)


class MapObjectiveSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    level = serializers.ChoiceField(choices=["company", "team", "personal"])
    objective_status = serializers.ChoiceField(choices=["draft", "active", "closed", "archived"])
    cycle = serializers.UUIDField(help_text="The map's cycle or one of `cycle.includes`.")
    team = serializers.UUIDField(allow_null=True, help_text="A key of the top-level `teams`.")
    owner = serializers.UUIDField(allow_null=True, help_text="A key of the top-level `people`.")
    progress = serializers.FloatField()
    status = serializers.ChoiceField(choices=STATUS_CHOICES)
    signals = _signal_codes()
    orphan = serializers.BooleanField(help_text="A team/personal objective aligned to nothing.")
    aligned_outside = serializers.BooleanField(help_text="Aligned to something in another cycle or not visible.")
    context = serializers.BooleanField(help_text="Shown only as the ancestor of a filter match.")
    key_results = MapKeyResultSerializer(many=True)
    children = _ObjectiveList(child=serializers.DictField(), help_text="Objectives aligned to the whole objective.")
    contributes_to = MapContributionSerializer(many=True)
    status_reason = serializers.CharField(required=False, help_text=STATUS_REASON_HELP)
    reasons = serializers.DictField(child=serializers.CharField(), required=False, help_text=REASONS_HELP)


class MapWarningSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    key_results = serializers.IntegerField()
    objectives = serializers.IntegerField()
    count = serializers.IntegerField()


class MapCycleSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    kind = serializers.CharField()
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    includes = _Ref(many=True, help_text="Other cycles on this map: the year of a quarter, the quarters of a year.")


class MapCountsSerializer(serializers.Serializer):
    objectives = serializers.IntegerField()
    key_results = serializers.IntegerField()
    initiatives = serializers.IntegerField(help_text="Initiatives of the map's key results, cancelled ones excluded.")
    shown = serializers.IntegerField(help_text="Objectives in `roots` after the filters.")


class MapFiltersSerializer(serializers.Serializer):
    team = serializers.UUIDField(allow_null=True)
    signal = serializers.CharField(allow_null=True)


class MapSerializer(serializers.Serializer):
    cycle = MapCycleSerializer(allow_null=True)
    expected = serializers.FloatField(help_text="Share of the cycle elapsed today, 0-1.")
    counts = MapCountsSerializer()
    warnings = MapWarningSerializer(many=True)
    filters = MapFiltersSerializer()
    legend = serializers.DictField(child=serializers.CharField(), help_text="Signal code → label (filter choices).")
    signals = serializers.DictField(child=MapSignalInfoSerializer(), help_text="Signal code → label and colour.")
    people = serializers.DictField(child=MapPersonSerializer(), help_text="Owner id → name and initials.")
    teams = serializers.DictField(child=serializers.CharField(), help_text="Team id → name.")
    roots = MapObjectiveSerializer(many=True)


# --- The endpoint -------------------------------------------------------------------------------------------------
def _json(data, status: int = 200) -> HttpResponse:
    return HttpResponse(orjson.dumps(data), status=status, content_type="application/json")


class AlignmentMapView(APIView):
    """The alignment map of a cycle (default: the current one) as the caller may see it."""

    permission_classes = [IsAuthenticated, HasOrgRole]

    def required_role(self, request) -> Role:
        return Role.VIEWER

    def _lookup(self, name: str, model):
        raw = self.request.query_params.get(name)
        if not raw:
            return None
        try:
            return model.objects.for_org(self.request.organization).get(public_id=raw)
        except (model.DoesNotExist, DjangoValidationError, ValueError):
            raise ValidationError({name: [f"No such {name} in this organization."]}) from None

    @extend_schema(
        operation_id="map_retrieve",
        parameters=[
            OpenApiParameter("cycle", OpenApiTypes.UUID, description="The cycle (default: the current one)."),
            OpenApiParameter("team", OpenApiTypes.UUID, description="Only this team's objectives and their parents."),
            OpenApiParameter(
                "detail",
                OpenApiTypes.STR,
                enum=["signals"],
                description="`signals`: add `status_reason` and `reasons` (why each signal fired) to every node. "
                "Without it the map carries codes only (labels and colours in `signals`), which keeps a "
                "5,000-objective map small and fast.",
            ),
            OpenApiParameter(
                "signal",
                OpenApiTypes.STR,
                enum=list(okr_map.FILTER_CODES),
                description="Only objectives with this signal (on them or a KR) and their parents.",
            ),
        ],
        responses=MapSerializer,
    )
    def get(self, request, org_slug=None):
        org = request.organization
        cycle = self._lookup("cycle", Cycle) or selectors.cycle_current(org=org)
        team = self._lookup("team", Team)
        signal = request.query_params.get("signal") or None
        if signal is not None and signal not in okr_map.FILTER_LABELS:
            raise ValidationError({"signal": [f"Choose one of: {', '.join(okr_map.FILTER_CODES)}."]})
        detail = request.query_params.get("detail") or None
        if detail not in (None, "signals"):
            raise ValidationError({"detail": ["Choose: signals."]})
        if cycle is None:  # an organization without cycles has an empty map
            empty = {"objectives": 0, "key_results": 0, "initiatives": 0, "shown": 0}
            return _json(
                {
                    "cycle": None,
                    "expected": 0.0,
                    "counts": empty,
                    "warnings": [],
                    "filters": {"team": None, "signal": signal},
                    "legend": okr_map.FILTER_LABELS,
                    "signals": okr_map.SIGNALS,
                    "people": {},
                    "teams": {},
                    "roots": [],
                }
            )
        result = okr_map.alignment_map(
            org=org,
            membership=request.membership,
            cycle=cycle,
            team=team,
            signal=signal,
            detail=detail == "signals",
        )
        return _json(result)


urlpatterns = [path("map", AlignmentMapView.as_view(), name="api-map")]
