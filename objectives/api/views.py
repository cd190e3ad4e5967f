"""OKR API (DESIGN.md §8): cycles, objectives, key results, contributions, and /me.

Hot list endpoints (objectives, key results) read each cursor page in one raw query around the ORM's page of ids
and build the API dicts directly (objectives/api/lists.py; no ModelSerializer on that path); writes go through the
services; privacy comes from objectives.selectors.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import MembershipSerializer
from accounts.models import Membership, Role, Team
from objectives import assembly, selectors, services
from objectives import board as okr_board
from objectives.api import lists
from objectives.api import serializers as s
from objectives.api.renderers import ORJSONRenderer
from objectives.forms import SEARCH_MAX_LENGTH
from objectives.health import SIGNAL_CODES
from objectives.models import Contribution, Cycle, KeyResult, Objective
from objectives.permissions import can_edit_key_result, can_edit_objective
from okrapp.api.viewsets import HasOrgRole, OrgScopedViewSet

READ = {"list": Role.VIEWER, "retrieve": Role.VIEWER}
WRITE = {"create": Role.MEMBER, "update": Role.MEMBER, "partial_update": Role.MEMBER, "destroy": Role.MEMBER}


def uuid_param(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.UUID, OpenApiParameter.QUERY, required=False, description=description)


STATUS_PARAM = OpenApiParameter("status", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False)
SIGNAL_PARAM = OpenApiParameter(
    "signal",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    required=False,
    enum=list(SIGNAL_CODES),
    description="Only objects with this health signal (an objective matches when it or one of its KRs has it).",
)


def search_param(what: str) -> OpenApiParameter:
    return OpenApiParameter(
        "q",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        required=False,
        description=f"Search: only {what} (case-insensitive, at most {SEARCH_MAX_LENGTH} characters).",
    )


class FilterMixin:
    """Query-string filters resolved inside the caller's org; a bad or unknown id is a 400 naming the parameter."""

    def _search(self) -> str | None:
        q = (self.request.query_params.get("q") or "").strip()
        if "\x00" in q:  # PostgreSQL refuses NUL in text: a bad request, not a server error
            raise ValidationError({"q": ["Null characters are not allowed."]})
        if len(q) > SEARCH_MAX_LENGTH:
            raise ValidationError({"q": [f"Ensure this value has at most {SEARCH_MAX_LENGTH} characters."]})
        return q or None

    def _lookup(self, name: str, qs):
        raw = self.request.query_params.get(name)
        if not raw:
            return None
        try:
            return qs.get(public_id=raw)
        except (qs.model.DoesNotExist, DjangoValidationError, ValueError):
            raise ValidationError({name: [f"No such {name.replace('_', ' ')} in this organization."]}) from None

    def _choice(self, name: str, choices):
        raw = self.request.query_params.get(name)
        if raw and raw not in choices:
            raise ValidationError({name: [f"Choose one of: {', '.join(choices)}."]})
        return raw or None

    def _people(self):
        return Membership.objects.for_org(self.request.organization)


def refuse_read_only(data, fields: dict) -> None:
    """A PATCH/PUT that tries to change a read-only field is a 400 naming it with the way to do it, rather than a
    200 that silently ignored it. `fields`: name → (stored value, normaliser, hint). Sending the stored value back
    (a PUT of what GET answered) is fine."""
    errors = {}
    for name, (stored, normalise, hint) in fields.items():
        if not hasattr(data, "get") or name not in data:
            continue
        try:
            same = normalise(data.get(name)) == stored
        except (TypeError, ValueError, ArithmeticError):
            same = False
        if not same:
            errors[name] = [hint]
    if errors:
        raise ValidationError(errors)


def _ref_id(value) -> str:
    """An id as a script may send it: "uuid" or {"id": "uuid", …} (the shape GET answers)."""
    return str(value["id"] if isinstance(value, dict) else value).lower()


def _service(call, **kwargs):
    """Run a service; its Django ValidationError becomes a 400 with field names (okrapp.api.errors)."""
    return call(org=kwargs.pop("org"), actor=kwargs.pop("actor"), **kwargs)


# --- Cycles -------------------------------------------------------------------------------------------------------
class CycleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    OrgScopedViewSet,
):
    """Cycles (quarters nest in years). Everyone reads; ADMIN+ create, change, activate, close and delete."""

    model = Cycle
    serializer_class = s.CycleSerializer
    required_roles = {
        **READ,
        "create": Role.ADMIN,
        "update": Role.ADMIN,
        "partial_update": Role.ADMIN,
        "destroy": Role.ADMIN,
        "activate": Role.ADMIN,
        "close": Role.ADMIN,
    }

    def scope_queryset(self, qs):
        return qs.select_related("parent")

    def perform_create(self, serializer):
        serializer.instance = services.cycle_create(
            org=self.request.organization, actor=self.request.membership, **serializer.validated_data
        )

    def update(self, request, *args, **kwargs):
        cycle = self.get_object()
        hint = f"Read-only: use POST {request.path}/activate or {request.path}/close to change it."
        refuse_read_only(request.data, {"status": (cycle.status, str, hint)})
        return super().update(request, *args, **kwargs)

    def perform_update(self, serializer):
        serializer.instance = services.cycle_update(
            org=self.request.organization,
            actor=self.request.membership,
            cycle=serializer.instance,
            **serializer.validated_data,
        )

    def perform_destroy(self, instance):
        services.cycle_delete(org=self.request.organization, actor=self.request.membership, cycle=instance)

    @extend_schema(request=None, responses=s.CycleSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, org_slug=None, public_id=None):
        """Make this cycle the active one of its kind (the previous active one is closed)."""
        cycle = services.cycle_activate(org=request.organization, actor=request.membership, cycle=self.get_object())
        return Response(s.CycleSerializer(cycle, context={"request": request}).data)

    @extend_schema(request=None, responses=s.CycleSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, org_slug=None, public_id=None):
        """Close this cycle; later check-ins are flagged late."""
        cycle = services.cycle_close(org=request.organization, actor=request.membership, cycle=self.get_object())
        return Response(s.CycleSerializer(cycle, context={"request": request}).data)


# --- Objectives ---------------------------------------------------------------------------------------------------
@extend_schema_view(
    list=extend_schema(
        parameters=[
            uuid_param("cycle", "Only objectives of this cycle."),
            uuid_param("team", "Only objectives of this team."),
            uuid_param("owner", "Only objectives owned by this member."),
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                enum=list(Objective.Status.values),
                description="Archived objectives are listed only when asked for.",
            ),
            SIGNAL_PARAM,
            search_param("objectives whose title or description, or one of whose key results' titles, contain it"),
        ],
        responses=s.ObjectiveOutSerializer(many=True),
    ),
    retrieve=extend_schema(responses=s.ObjectiveDetailOutSerializer),
    create=extend_schema(request=s.ObjectiveWriteSerializer, responses={201: s.ObjectiveDetailOutSerializer}),
    update=extend_schema(request=s.ObjectiveWriteSerializer, responses=s.ObjectiveDetailOutSerializer),
    partial_update=extend_schema(request=s.ObjectiveWriteSerializer, responses=s.ObjectiveDetailOutSerializer),
)
class ObjectiveViewSet(FilterMixin, OrgScopedViewSet):
    """Objectives with computed progress and health signals. Private ones exist only for those who may see them.

    MEMBERs create objectives and edit the ones they own; ADMIN+ edit all.
    """

    renderer_classes = [ORJSONRenderer]
    model = Objective
    serializer_class = s.ObjectiveWriteSerializer
    required_roles = {
        **READ,
        **WRITE,
        "publish": Role.MEMBER,
        "close": Role.MEMBER,
        "archive": Role.MEMBER,
        "alignment": Role.MEMBER,
    }

    def scope_queryset(self, qs):
        return qs.filter(selectors.visibility_q(self.request.membership)).select_related(
            "cycle", "team", "owner__user", "parent_objective", "parent_key_result__objective"
        )

    def _editable(self) -> Objective:
        objective = self.get_object()
        if not can_edit_objective(self.request.membership, objective):
            raise PermissionDenied("Only the objective's owner or an admin can change it.")
        return objective

    def _detail(self, objective: Objective, code=status.HTTP_200_OK) -> Response:
        objective = selectors.objective_get(
            org=self.request.organization, membership=self.request.membership, public_id=objective.public_id
        )
        d = selectors.objective_detail(
            org=self.request.organization, membership=self.request.membership, objective=objective
        )
        out = s.objective_out(d["objective"])
        initiatives = []
        for kr_out, kr in zip(out["key_results"], d["key_results"], strict=True):
            items = [s.initiative_out(i) for i in kr["initiatives"]]
            kr_out["initiatives"] = items
            initiatives.extend(items)
        parent = d["parent"]
        if parent is None:  # none, or one the caller can't see (private): its ids are not theirs to learn
            out.update(parent_objective=None, parent_key_result=None)
        out.update(
            initiatives=initiatives,
            parent=(
                {
                    "kind": parent["kind"],
                    "objective": {"id": parent["objective"]["id"], "title": parent["objective"]["title"]},
                    "key_result": (
                        {"id": parent["key_result"]["id"], "title": parent["key_result"]["title"]}
                        if parent["key_result"]
                        else None
                    ),
                }
                if parent
                else None
            ),
            children=[{"id": c["id"], "title": c["title"]} for c in d["children"]],
            contributions=[{**e, "weight": float(e["weight"])} for e in d["contributions"]],
            contributors=[{**e, "weight": float(e["weight"])} for e in d["contributors"]],
            publish_blockers=d["publish_blockers"],
        )
        return Response(out, status=code)

    def list(self, request, org_slug=None):
        org, membership = request.organization, request.membership
        visible = selectors.visible_objectives(org, membership)
        filters = {
            "cycle": self._lookup("cycle", Cycle.objects.for_org(org)),
            "team": self._lookup("team", Team.objects.for_org(org)),
            "owner": self._lookup("owner", self._people()),
            "status": self._choice("status", Objective.Status.values),
        }
        signal = self._choice("signal", SIGNAL_CODES)
        q = self._search()
        qs = selectors._filter_objectives(visible, **filters)
        if q:
            qs = selectors.objectives_matching(qs, q)
        if signal:
            # Signals are computed, not stored: judge every candidate with the board's lean judge (constant
            # queries, no reasons built), then page over the matches.
            narrowed = okr_board.BoardFilters(
                team=filters["team"], owner=filters["owner"], status=filters["status"], signal=signal, q=q
            )
            judged = okr_board.judge(org, membership, cycle=filters["cycle"], filters=narrowed)
            qs = qs.filter(id__in=[o["pk"] for o in judged.objectives])
        source = lists.objective_page(org, qs, visible)  # raw SQL around the ORM's page of ids (objectives.api.lists)
        rows = self.paginate_queryset(source)
        return self.get_paginated_response(lists.rendered(lists.objectives_out(rows, source)))

    def retrieve(self, request, org_slug=None, public_id=None):
        return self._detail(self.get_object())

    def create(self, request, org_slug=None):
        data = self._validated(request.data)
        owner = data.pop("owner", request.membership)
        objective = services.objective_create(org=request.organization, actor=request.membership, owner=owner, **data)
        return self._detail(objective, code=status.HTTP_201_CREATED)

    def update(self, request, org_slug=None, public_id=None, partial=False):
        objective = self._editable()
        path = request.path
        hint = f"Read-only: use POST {path}/publish, {path}/close or {path}/archive to change it."
        refuse_read_only(request.data, {"status": (objective.status, str, hint)})
        data = self._validated(request.data, partial=partial)
        services.objective_update(org=request.organization, actor=request.membership, objective=objective, **data)
        return self._detail(objective)

    def partial_update(self, request, org_slug=None, public_id=None):
        return self.update(request, org_slug, public_id, partial=True)

    def destroy(self, request, org_slug=None, public_id=None):
        services.objective_delete(org=request.organization, actor=request.membership, objective=self._editable())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _validated(self, data, partial=False) -> dict:
        serializer = s.ObjectiveWriteSerializer(data=data, partial=partial, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if partial:  # PATCH changes only what it mentions
            data = {k: v for k, v in data.items() if k in serializer.initial_data}
        return data

    @extend_schema(request=None, responses={200: s.ObjectiveDetailOutSerializer, 400: s.BlockersSerializer})
    @action(detail=True, methods=["post"])
    def publish(self, request, org_slug=None, public_id=None):
        """Run the ownership and quality checks, then make the objective and its KRs live.

        400 {"blockers": [...]} lists everything that stops it ("KR 'X' has no owner.")."""
        objective = self._editable()
        try:
            services.objective_publish(org=request.organization, actor=request.membership, objective=objective)
        except DjangoValidationError as exc:
            raise ValidationError({"blockers": exc.messages}) from None
        return self._detail(objective)

    @extend_schema(request=s.CloseSerializer, responses=s.ObjectiveDetailOutSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, org_slug=None, public_id=None):
        """Close the objective: each KR is scored 0.0–1.0; an optional retrospective is kept."""
        objective = self._editable()
        body = s.CloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.objective_close(
            org=request.organization,
            actor=request.membership,
            objective=objective,
            retrospective=body.validated_data.get("retrospective"),
        )
        return self._detail(objective)

    @extend_schema(request=None, responses=s.ObjectiveDetailOutSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, org_slug=None, public_id=None):
        """Archive the objective (hidden from boards unless status=archived is asked for)."""
        services.objective_archive(org=request.organization, actor=request.membership, objective=self._editable())
        return self._detail(self.get_object())

    @extend_schema(request=s.AlignmentSerializer, responses=s.ObjectiveDetailOutSerializer)
    @action(detail=True, methods=["put"])
    def alignment(self, request, org_slug=None, public_id=None):
        """Set the primary parent: a whole objective or one specific KR (both null clears it). Loops → 400."""
        objective = self._editable()
        body = s.AlignmentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        org, membership = request.organization, request.membership
        parent_objective = parent_kr = None
        if body.validated_data.get("parent_objective"):
            try:
                parent_objective = selectors.visible_objectives(org, membership).get(
                    public_id=body.validated_data["parent_objective"]
                )
            except Objective.DoesNotExist:
                raise ValidationError({"parent_objective": ["No such objective in this organization."]}) from None
        if body.validated_data.get("parent_key_result"):
            try:
                parent_kr = (
                    selectors.visible_key_results(org, membership)
                    .select_related("objective")
                    .get(public_id=body.validated_data["parent_key_result"])
                )
            except KeyResult.DoesNotExist:
                raise ValidationError({"parent_key_result": ["No such key result in this organization."]}) from None
        services.objective_set_alignment(
            org=org,
            actor=membership,
            objective=objective,
            parent_objective=parent_objective,
            parent_key_result=parent_kr,
        )
        return self._detail(objective)


# --- Key results --------------------------------------------------------------------------------------------------
@extend_schema_view(
    list=extend_schema(
        parameters=[
            uuid_param("objective", "Only KRs of this objective."),
            uuid_param("cycle", "Only KRs of objectives in this cycle."),
            uuid_param("owner", "Only KRs owned by this member."),
            OpenApiParameter("status", OpenApiTypes.STR, OpenApiParameter.QUERY, enum=list(KeyResult.Status.values)),
            SIGNAL_PARAM,
            search_param("key results whose title or description contains it"),
        ],
        responses=s.KeyResultOutSerializer(many=True),
    ),
    retrieve=extend_schema(responses=s.KeyResultDetailOutSerializer),
    create=extend_schema(request=s.KeyResultWriteSerializer, responses={201: s.KeyResultDetailOutSerializer}),
    update=extend_schema(request=s.KeyResultUpdateSerializer, responses=s.KeyResultDetailOutSerializer),
    partial_update=extend_schema(request=s.KeyResultUpdateSerializer, responses=s.KeyResultDetailOutSerializer),
)
class KeyResultViewSet(FilterMixin, OrgScopedViewSet):
    """Key results with computed progress, formatted values, signals and (on detail) the revision trail.

    The KR owner, the objective owner or an ADMIN may edit. Changing the goalposts of a live KR needs a rationale.
    """

    renderer_classes = [ORJSONRenderer]
    model = KeyResult
    serializer_class = s.KeyResultWriteSerializer
    required_roles = {**READ, **WRITE, "activate": Role.MEMBER}

    def scope_queryset(self, qs):
        return qs.filter(selectors.visibility_q(self.request.membership, "objective__")).select_related(
            "objective__cycle", "objective__owner", "owner__user"
        )

    def _editable(self) -> KeyResult:
        kr = self.get_object()
        if not can_edit_key_result(self.request.membership, kr):
            raise PermissionDenied("Only the key result's owner, the objective's owner or an admin can change it.")
        return kr

    def _detail(self, kr: KeyResult, code=status.HTTP_200_OK) -> Response:
        kr = selectors.key_result_get(
            org=self.request.organization, membership=self.request.membership, public_id=kr.public_id
        )
        d = selectors.key_result_detail(
            org=self.request.organization, membership=self.request.membership, key_result=kr
        )
        out = s.key_result_out(d["key_result"])
        out.update(
            revisions=d["revisions"],
            initiatives=[s.initiative_out(i) for i in d["initiatives"]],
            checkins=[{**c, "value": float(c["value"])} for c in d["checkins"]],
        )
        return Response(out, status=code)

    def list(self, request, org_slug=None):
        org, membership = request.organization, request.membership
        qs = selectors.visible_key_results(org, membership)
        objective = self._lookup("objective", selectors.visible_objectives(org, membership))
        cycle = self._lookup("cycle", Cycle.objects.for_org(org))
        owner = self._lookup("owner", self._people())
        status_ = self._choice("status", KeyResult.Status.values)
        signal = self._choice("signal", SIGNAL_CODES)
        q = self._search()
        if q:
            qs = selectors.key_results_matching(qs, q)
        if objective:
            qs = qs.filter(objective=objective)
        if cycle:
            qs = qs.filter(objective__cycle=cycle)
        if owner:
            qs = qs.filter(owner=owner)
        if status_:
            qs = qs.filter(status=status_)
        if signal:
            everything = assembly.assemble_key_results(org, list(qs.values(*assembly.KEY_RESULT_VALUES)))
            qs = qs.filter(id__in=[kr["pk"] for kr in everything if any(x.code == signal for x in kr["signals"])])
        source = lists.key_result_page(org, qs)  # raw SQL around the ORM's page of ids (objectives.api.lists)
        rows = self.paginate_queryset(source)
        return self.get_paginated_response(lists.rendered(lists.key_results_out(rows, source)))

    def retrieve(self, request, org_slug=None, public_id=None):
        return self._detail(self.get_object())

    def create(self, request, org_slug=None):
        body = s.KeyResultWriteSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        data.pop("rationale", None)
        org, membership = request.organization, request.membership
        try:
            objective = (
                selectors.visible_objectives(org, membership)
                .select_related("owner")
                .get(public_id=data.pop("objective"))
            )
        except Objective.DoesNotExist:
            raise ValidationError({"objective": ["No such objective in this organization."]}) from None
        if not can_edit_objective(membership, objective):
            raise PermissionDenied("Only the objective's owner or an admin can add key results to it.")
        kr = services.key_result_create(org=org, actor=membership, objective=objective, **data)
        return self._detail(kr, code=status.HTTP_201_CREATED)

    def update(self, request, org_slug=None, public_id=None, partial=False):
        kr = self._editable()
        refuse_read_only(
            request.data,
            {
                "current": (
                    kr.current,
                    lambda v: Decimal(str(v)),
                    f"Read-only: record a value with POST {request.path}/check-ins.",
                ),
                "objective": (
                    str(kr.objective.public_id),
                    _ref_id,
                    "A key result doesn't move between objectives; create it under the other objective.",
                ),
            },
        )
        body = s.KeyResultUpdateSerializer(data=request.data, partial=partial, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = {k: v for k, v in body.validated_data.items() if not partial or k in body.initial_data}
        rationale = data.pop("rationale", "")
        services.key_result_update(
            org=request.organization, actor=request.membership, key_result=kr, rationale=rationale, **data
        )
        return self._detail(kr)

    def partial_update(self, request, org_slug=None, public_id=None):
        return self.update(request, org_slug, public_id, partial=True)

    def destroy(self, request, org_slug=None, public_id=None):
        services.key_result_delete(org=request.organization, actor=request.membership, key_result=self._editable())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=s.KeyResultDetailOutSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, org_slug=None, public_id=None):
        """Make one KR live. Refuses (400, field "owner") while it has no owner."""
        kr = self._editable()
        services.key_result_activate(org=request.organization, actor=request.membership, key_result=kr)
        return self._detail(kr)


# --- Contributions ------------------------------------------------------------------------------------------------
def _contribution_out(c: Contribution) -> dict:
    return {
        "id": c.public_id,
        "weight": float(c.weight),
        "objective": {"id": c.objective.public_id, "title": c.objective.title},
        "key_result": {
            "id": c.key_result.public_id,
            "title": c.key_result.title,
            "objective": {"id": c.key_result.objective.public_id, "title": c.key_result.objective.title},
        },
    }


@extend_schema_view(
    list=extend_schema(
        parameters=[uuid_param("objective", "Only edges from or to this objective.")],
        responses=s.ContributionOutSerializer(many=True),
    ),
    retrieve=extend_schema(responses=s.ContributionOutSerializer),
    create=extend_schema(request=s.ContributionWriteSerializer, responses={201: s.ContributionOutSerializer}),
    partial_update=extend_schema(request=s.ContributionUpdateSerializer, responses=s.ContributionOutSerializer),
)
class ContributionViewSet(FilterMixin, OrgScopedViewSet):
    """Secondary, weighted alignment edges: "this objective also contributes to that KR" (shown on the map)."""

    model = Contribution
    serializer_class = s.ContributionWriteSerializer
    required_roles = {**READ, "create": Role.MEMBER, "partial_update": Role.MEMBER, "destroy": Role.MEMBER}
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def scope_queryset(self, qs):
        # Both ends must be visible to the caller.
        m = self.request.membership
        return (
            qs.filter(selectors.visibility_q(m, "objective__"))
            .filter(selectors.visibility_q(m, "key_result__objective__"))
            .select_related("objective", "key_result__objective")
        )

    def _editable(self) -> Contribution:
        c = self.get_object()
        if not can_edit_objective(self.request.membership, c.objective):
            raise PermissionDenied("Only the contributing objective's owner or an admin can change this edge.")
        return c

    def list(self, request, org_slug=None):
        qs = self.get_queryset()
        objective = self._lookup("objective", selectors.visible_objectives(request.organization, request.membership))
        if objective:
            qs = qs.filter(Q(objective=objective) | Q(key_result__objective=objective))
        page = self.paginate_queryset(qs)
        return self.get_paginated_response([_contribution_out(c) for c in page])

    def retrieve(self, request, org_slug=None, public_id=None):
        return Response(_contribution_out(self.get_object()))

    def create(self, request, org_slug=None):
        body = s.ContributionWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        org, membership = request.organization, request.membership
        try:
            objective = selectors.visible_objectives(org, membership).get(public_id=body.validated_data["objective"])
        except Objective.DoesNotExist:
            raise ValidationError({"objective": ["No such objective in this organization."]}) from None
        try:
            kr = (
                selectors.visible_key_results(org, membership)
                .select_related("objective")
                .get(public_id=body.validated_data["key_result"])
            )
        except KeyResult.DoesNotExist:
            raise ValidationError({"key_result": ["No such key result in this organization."]}) from None
        if not can_edit_objective(membership, objective):
            raise PermissionDenied("Only the contributing objective's owner or an admin can add this edge.")
        c = services.contribution_add(
            org=org, actor=membership, objective=objective, key_result=kr, weight=body.validated_data["weight"]
        )
        return Response(_contribution_out(c), status=status.HTTP_201_CREATED)

    def partial_update(self, request, org_slug=None, public_id=None):
        c = self._editable()
        body = s.ContributionUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.contribution_update(
            org=request.organization, actor=request.membership, contribution=c, weight=body.validated_data["weight"]
        )
        return Response(_contribution_out(c))

    def destroy(self, request, org_slug=None, public_id=None):
        services.contribution_remove(org=request.organization, actor=request.membership, contribution=self._editable())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Me -----------------------------------------------------------------------------------------------------------
class MeView(APIView):
    """The caller's own membership in this organization (also the benchmark's authenticated floor)."""

    permission_classes = [IsAuthenticated, HasOrgRole]

    def required_role(self, request) -> Role:
        return Role.VIEWER

    @extend_schema(responses=MembershipSerializer, operation_id="me_retrieve")
    def get(self, request, org_slug=None):
        return Response(MembershipSerializer(request.membership).data)


__all__ = ["ContributionViewSet", "CycleViewSet", "KeyResultViewSet", "MeView", "ObjectiveViewSet"]
