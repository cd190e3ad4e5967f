"""API shapes. Output of the hot paths is built by plain functions (`*_out`) from assembled dicts; the Serializer
classes below describe the same shapes for the OpenAPI schema and validate input."""

from decimal import Decimal

from rest_framework import serializers

from accounts.models import Membership, Team
from initiatives.models import Initiative
from objectives.health import SIGNAL_CODES
from objectives.models import Cycle, KeyResult, Objective

SIGNAL_LEVELS = [("green", "Green"), ("amber", "Amber"), ("red", "Red"), ("grey", "Grey"), ("purple", "Purple")]


def num(value) -> float | None:
    return None if value is None else float(value)


def signal_out(s) -> dict:
    return {"code": s.code, "label": s.label, "level": s.level, "reason": s.reason, "hint": s.hint, "rule": s.rule}


def key_result_out(kr: dict) -> dict:
    """Assembled KR dict (objectives.assembly) → JSON-ready API dict."""
    return {
        "id": kr["id"],
        "objective": {"id": kr["objective_id"], "title": kr["objective_title"]},
        "title": kr["title"],
        "description": kr["description"],
        "kind": kr["kind"],
        "unit": kr["unit"],
        "unit_label": kr["unit_label"],
        "decimals": kr["decimals"],
        "baseline": num(kr["baseline"]),
        "target": num(kr["target"]),
        "current": num(kr["current"]),
        "band_low": num(kr["band_low"]),
        "band_high": num(kr["band_high"]),
        "milestone_steps": kr["milestone_steps"],
        "weight": num(kr["weight"]),
        "confidence": kr["confidence"],
        "data_source": kr["data_source"],
        "status": kr["status"],
        "score": num(kr["score"]),
        "position": kr["position"],
        "owner": kr["owner"],
        "progress": round(kr["progress"], 4),
        "below_baseline": kr["below_baseline"],
        "inside_band": kr["inside_band"],
        "display": kr["display"],
        "last_checkin_at": kr["last_checkin_at"],
        "initiatives_total": kr["initiatives_total"],
        "initiatives_done": kr["initiatives_done"],
        "status_signal": signal_out(kr["status_signal"]) if kr["status_signal"] else None,
        "signals": [signal_out(s) for s in kr["signals"]],
        "created_at": kr["created_at"],
        "updated_at": kr["updated_at"],
    }


def objective_out(o: dict) -> dict:
    """Assembled objective dict → JSON-ready API dict (with its KRs)."""
    return {
        "id": o["id"],
        "title": o["title"],
        "description": o["description"],
        "level": o["level"],
        "status": o["status"],
        "visibility": o["visibility"],
        "position": o["position"],
        "cycle": o["cycle"],
        "team": o["team"],
        "owner": o["owner"],
        "parent_objective": o["parent_objective_id"],
        "parent_key_result": o["parent_key_result_id"],
        "progress": round(o["progress"], 4),
        "expected_progress": round(o["expected"], 4),
        "status_signal": signal_out(o["status_signal"]) if o["status_signal"] else None,
        "signals": [signal_out(s) for s in o["signals"]],
        "kr_count": o["kr_count"],
        "kr_signal_codes": o["kr_signal_codes"],
        "key_results": [key_result_out(kr) for kr in o["key_results"]],
        "created_at": o["created_at"],
        "updated_at": o["updated_at"],
    }


def initiative_out(i: dict) -> dict:
    return {
        "id": i["id"],
        "key_result": i["key_result_id"],
        "title": i["title"],
        "hypothesis": i["hypothesis"],
        "status": i["status"],
        "due_date": i["due_date"],
        "progress": i["progress"],
        "owner": i["owner"],
        "signals": [signal_out(s) for s in i["signals"]],
    }


# --- Output shapes (schema) ---------------------------------------------------------------------------------------
class SignalSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=list(SIGNAL_CODES))
    label = serializers.CharField()
    level = serializers.ChoiceField(choices=SIGNAL_LEVELS)
    reason = serializers.CharField()
    hint = serializers.CharField(allow_null=True)
    rule = serializers.CharField(allow_null=True)


class PersonSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    initials = serializers.CharField()


class RefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class TitleRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()


class DisplaySerializer(serializers.Serializer):
    baseline = serializers.CharField()
    target = serializers.CharField()
    current = serializers.CharField()
    band_low = serializers.CharField(allow_null=True)
    band_high = serializers.CharField(allow_null=True)


class KeyResultOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    objective = TitleRefSerializer()
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    kind = serializers.ChoiceField(choices=KeyResult.Kind.choices)
    unit = serializers.ChoiceField(choices=KeyResult.Unit.choices)
    unit_label = serializers.CharField(allow_blank=True)
    decimals = serializers.IntegerField()
    baseline = serializers.FloatField()
    target = serializers.FloatField()
    current = serializers.FloatField()
    band_low = serializers.FloatField(allow_null=True)
    band_high = serializers.FloatField(allow_null=True)
    milestone_steps = serializers.ListField(child=serializers.CharField())
    weight = serializers.FloatField()
    confidence = serializers.IntegerField(allow_null=True)
    data_source = serializers.ChoiceField(choices=KeyResult.DataSource.choices)
    status = serializers.ChoiceField(choices=KeyResult.Status.choices)
    score = serializers.FloatField(allow_null=True)
    position = serializers.IntegerField()
    owner = PersonSerializer(allow_null=True)
    progress = serializers.FloatField(help_text="Computed, 0..1 (DESIGN.md §2).")
    below_baseline = serializers.BooleanField()
    inside_band = serializers.BooleanField(allow_null=True)
    display = DisplaySerializer()
    last_checkin_at = serializers.DateTimeField(allow_null=True)
    initiatives_total = serializers.IntegerField()
    initiatives_done = serializers.IntegerField()
    status_signal = SignalSerializer(allow_null=True)
    signals = SignalSerializer(many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class RevisionOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    changes = serializers.DictField(help_text='{"field": [old, new]}')
    rationale = serializers.CharField()
    created_at = serializers.DateTimeField()
    author = PersonSerializer(allow_null=True)


class CheckinOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    value = serializers.FloatField()
    display = serializers.CharField()
    confidence = serializers.IntegerField(allow_null=True)
    comment = serializers.CharField(allow_blank=True)
    week_start = serializers.DateField()
    is_late = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    author = PersonSerializer(allow_null=True)


class InitiativeOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    key_result = serializers.UUIDField()
    title = serializers.CharField()
    hypothesis = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=Initiative.Status.choices)
    due_date = serializers.DateField(allow_null=True)
    progress = serializers.IntegerField()
    owner = PersonSerializer(allow_null=True)
    signals = SignalSerializer(many=True)


class KeyResultDetailOutSerializer(KeyResultOutSerializer):
    revisions = RevisionOutSerializer(many=True)
    initiatives = InitiativeOutSerializer(many=True)
    checkins = CheckinOutSerializer(many=True)


class ObjectiveOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    level = serializers.ChoiceField(choices=Objective.Level.choices)
    status = serializers.ChoiceField(choices=Objective.Status.choices)
    visibility = serializers.ChoiceField(choices=Objective.Visibility.choices)
    position = serializers.IntegerField()
    cycle = RefSerializer()
    team = RefSerializer(allow_null=True)
    owner = PersonSerializer(allow_null=True)
    parent_objective = serializers.UUIDField(allow_null=True)
    parent_key_result = serializers.UUIDField(allow_null=True)
    progress = serializers.FloatField(help_text="Weighted mean of its KRs' progress, 0..1.")
    expected_progress = serializers.FloatField()
    status_signal = SignalSerializer(allow_null=True)
    signals = SignalSerializer(many=True)
    kr_count = serializers.IntegerField()
    kr_signal_codes = serializers.ListField(child=serializers.CharField())
    key_results = KeyResultOutSerializer(many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class KeyResultRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    objective = TitleRefSerializer()


class ContributionOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    weight = serializers.FloatField()
    objective = TitleRefSerializer()
    key_result = KeyResultRefSerializer()


class ParentOutSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["objective", "key_result"])
    objective = TitleRefSerializer()
    key_result = TitleRefSerializer(allow_null=True)


class KeyResultWithInitiativesSerializer(KeyResultOutSerializer):
    """A KR inside an objective's detail: the list shape plus its initiatives."""

    initiatives = InitiativeOutSerializer(many=True)


class ObjectiveDetailOutSerializer(ObjectiveOutSerializer):
    key_results = KeyResultWithInitiativesSerializer(many=True)
    initiatives = InitiativeOutSerializer(many=True, help_text="All initiatives under the objective's KRs.")
    parent = ParentOutSerializer(allow_null=True)
    children = TitleRefSerializer(many=True)
    contributions = ContributionOutSerializer(many=True, help_text="KRs this objective also contributes to.")
    contributors = ContributionOutSerializer(many=True, help_text="Objectives that contribute to this one's KRs.")
    publish_blockers = serializers.ListField(child=serializers.CharField())


class CycleSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    name = serializers.CharField(max_length=80)
    kind = serializers.ChoiceField(choices=Cycle.Kind.choices, default=Cycle.Kind.QUARTER)
    status = serializers.ChoiceField(choices=Cycle.Status.choices, read_only=True)
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    parent = serializers.SlugRelatedField(
        slug_field="public_id", queryset=Cycle.objects.none(), required=False, allow_null=True
    )
    created_at = serializers.DateTimeField(read_only=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        org = getattr(self.context.get("request"), "organization", None)
        if org is not None:
            self.fields["parent"].queryset = Cycle.objects.for_org(org).filter(kind=Cycle.Kind.YEAR)


class BlockersSerializer(serializers.Serializer):
    blockers = serializers.ListField(child=serializers.CharField())


# --- Input --------------------------------------------------------------------------------------------------------
def _scoped(field, qs):
    field.queryset = qs
    return field


class ObjectiveWriteSerializer(serializers.Serializer):
    cycle = serializers.SlugRelatedField(slug_field="public_id", queryset=Cycle.objects.none())
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    level = serializers.ChoiceField(choices=Objective.Level.choices, default=Objective.Level.TEAM)
    team = serializers.SlugRelatedField(
        slug_field="public_id", queryset=Team.objects.none(), required=False, allow_null=True, default=None
    )
    owner = serializers.SlugRelatedField(
        slug_field="public_id",
        queryset=Membership.objects.none(),
        required=False,
        allow_null=True,
        help_text="Defaults to the caller on create.",
    )
    visibility = serializers.ChoiceField(
        choices=Objective.Visibility.choices, default=Objective.Visibility.ORGANIZATION
    )
    position = serializers.IntegerField(required=False, min_value=0, max_value=100000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        org = getattr(self.context.get("request"), "organization", None)
        if org is not None:
            self.fields["cycle"].queryset = Cycle.objects.for_org(org)
            self.fields["team"].queryset = Team.objects.for_org(org)
            self.fields["owner"].queryset = Membership.objects.for_org(org).filter(is_active=True)


class AlignmentSerializer(serializers.Serializer):
    parent_objective = serializers.UUIDField(required=False, allow_null=True)
    parent_key_result = serializers.UUIDField(required=False, allow_null=True)


class CloseSerializer(serializers.Serializer):
    retrospective = serializers.CharField(required=False, allow_blank=True)


class KeyResultWriteSerializer(serializers.Serializer):
    objective = serializers.UUIDField(help_text="Only on create; a KR does not move between objectives.")
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=KeyResult.Kind.choices, required=False)
    unit = serializers.ChoiceField(choices=KeyResult.Unit.choices, required=False)
    unit_label = serializers.CharField(max_length=20, required=False, allow_blank=True)
    decimals = serializers.IntegerField(min_value=0, max_value=4, required=False)
    baseline = serializers.DecimalField(max_digits=18, decimal_places=4, required=False)
    target = serializers.DecimalField(max_digits=18, decimal_places=4, required=False)
    current = serializers.DecimalField(
        max_digits=18, decimal_places=4, required=False, help_text="Only on create; check-ins move it afterwards."
    )
    band_low = serializers.DecimalField(max_digits=18, decimal_places=4, required=False, allow_null=True)
    band_high = serializers.DecimalField(max_digits=18, decimal_places=4, required=False, allow_null=True)
    milestone_steps = serializers.ListField(child=serializers.CharField(max_length=200), required=False, max_length=50)
    weight = serializers.DecimalField(max_digits=6, decimal_places=2, min_value=Decimal("0.01"), required=False)
    confidence = serializers.IntegerField(min_value=0, max_value=10, required=False, allow_null=True)
    data_source = serializers.ChoiceField(choices=KeyResult.DataSource.choices, required=False)
    owner = serializers.SlugRelatedField(
        slug_field="public_id", queryset=Membership.objects.none(), required=False, allow_null=True
    )
    position = serializers.IntegerField(required=False, min_value=0, max_value=100000)
    rationale = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Required when changing baseline, target, kind, unit, owner or band of an active KR.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        org = getattr(self.context.get("request"), "organization", None)
        if org is not None:
            self.fields["owner"].queryset = Membership.objects.for_org(org).filter(is_active=True)


class KeyResultUpdateSerializer(KeyResultWriteSerializer):
    objective = None
    current = None
    title = serializers.CharField(max_length=200, required=False)


class ContributionWriteSerializer(serializers.Serializer):
    objective = serializers.UUIDField()
    key_result = serializers.UUIDField()
    weight = serializers.DecimalField(max_digits=6, decimal_places=2, min_value=Decimal("0.01"), default=1)


class ContributionUpdateSerializer(serializers.Serializer):
    weight = serializers.DecimalField(max_digits=6, decimal_places=2, min_value=Decimal("0.01"))
