"""Reads for check-ins: the "My week" list, a KR's history and chart series, and the KR chart partial's context."""

from __future__ import annotations

import uuid
import zoneinfo
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, F, OuterRef, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Membership, Organization, Role
from checkins import charts
from checkins.forecast import (
    Forecast,
    KrShape,
    Point,
    confidence_disagreement,
    forecast_end_value,
    format_value,
    progress_for_value,
    unit_suffix,
)
from checkins.models import CheckIn
from checkins.services import local_today, week_start_for
from initiatives.models import Initiative
from objectives.models import Cycle, KeyResult
from objectives.selectors import visible_key_results

OPEN_INITIATIVE_STATUSES = (
    Initiative.Status.NOT_STARTED,
    Initiative.Status.IN_PROGRESS,
    Initiative.Status.BLOCKED,
)


# --- My week ------------------------------------------------------------------------------------------------------
@dataclass(slots=True)
class KrFacts:
    """The columns of a KR that its My week row shows, named as on KeyResult (a page read builds these from one
    values_list() instead of model instances: a heavy owner has hundreds of rows)."""

    public_id: uuid.UUID
    title: str
    kind: str
    unit: str
    unit_label: str
    decimals: int
    baseline: Decimal
    target: Decimal
    current: Decimal
    band_low: Decimal | None
    band_high: Decimal | None
    milestone_steps: list
    confidence: int | None


@dataclass(slots=True)
class InitiativeFacts:
    """The columns of an initiative that its My week row shows, named as on Initiative (plus its KR's title)."""

    public_id: uuid.UUID
    title: str
    status: str
    progress: int
    due_date: date | None
    key_result_title: str


@dataclass
class MyWeekKr:
    kr: KrFacts | KeyResult  # KrFacts on the page; the KeyResult itself where one row is saved
    shape: KrShape
    checked_in: bool
    objective_title: str

    @property
    def current_display(self) -> str:
        return format_value(self.shape, self.kr.current)

    @property
    def unit(self) -> str:
        return unit_suffix(self.shape)

    @property
    def progress_pct(self) -> int:
        return round(progress_for_value(self.shape, self.kr.current) * 100)


@dataclass(frozen=True)
class MyWeekSummary:
    """The page's "N of M key results checked in this week" line."""

    total: int
    done: int

    @property
    def all_done(self) -> bool:
        return bool(self.total) and self.done == self.total


@dataclass
class MyWeek:
    week_start: date
    today: date
    key_results: list[MyWeekKr] = field(default_factory=list)
    initiatives: list[InitiativeFacts] = field(default_factory=list)

    @property
    def summary(self) -> MyWeekSummary:
        return MyWeekSummary(total=len(self.key_results), done=sum(1 for row in self.key_results if row.checked_in))


def my_active_key_results(*, org: Organization, membership: Membership) -> QuerySet[KeyResult]:
    """Active KRs the member owns in cycles that are not closed."""
    return (
        KeyResult.objects.for_org(org)
        .filter(owner=membership, status=KeyResult.Status.ACTIVE)
        .exclude(objective__cycle__status=Cycle.Status.CLOSED)
        .select_related("objective__cycle")
    )


# The columns the My week rows show (checkins.forms.MyWeekRows and KrShape), in KrFacts / InitiativeFacts order.
MY_WEEK_KR_FIELDS = tuple(KrFacts.__dataclass_fields__)
MY_WEEK_INITIATIVE_FIELDS = (*tuple(InitiativeFacts.__dataclass_fields__)[:-1], "key_result__title")


def _this_week_checkin(org: Organization, week: date) -> Subquery:
    """The id of one check-in of the outer KR in `week`, or NULL. A scalar subquery rather than EXISTS: PostgreSQL
    probes the index once per KR instead of hashing every check-in of the org's week (2 ms vs 7 ms, bench data)."""
    return Subquery(CheckIn.objects.for_org(org).filter(key_result=OuterRef("pk"), week_start=week).values("pk")[:1])


def my_week(*, org: Organization, membership: Membership, today: date | None = None) -> MyWeek:
    """Everything the member updates this week, as the page shows it. Two queries whatever the number of rows.

    Rows are KrFacts / InitiativeFacts (only the columns the page shows: a heavy owner has hundreds of rows); the
    rows a "Save all" writes are loaded as models by my_week_models().
    """
    today = today or local_today(membership=membership)
    week = week_start_for(today)
    krs = (
        my_active_key_results(org=org, membership=membership)
        .annotate(this_week_checkin=_this_week_checkin(org, week))
        .order_by("objective__cycle__start_date", "objective__position", "objective__created_at", "position", "pk")
        .values_list(*MY_WEEK_KR_FIELDS, "objective__title", "this_week_checkin")
    )
    rows = []
    for *columns, objective_title, checkin in krs:
        kr = KrFacts(*columns)
        rows.append(
            MyWeekKr(kr=kr, shape=KrShape.of(kr), checked_in=checkin is not None, objective_title=objective_title)
        )
    initiatives = (
        Initiative.objects.for_org(org)
        .filter(owner=membership, status__in=OPEN_INITIATIVE_STATUSES, key_result__status=KeyResult.Status.ACTIVE)
        .order_by("key_result__position", "position", "pk")
        .values_list(*MY_WEEK_INITIATIVE_FIELDS)
    )
    return MyWeek(
        week_start=week, today=today, key_results=rows, initiatives=[InitiativeFacts(*row) for row in initiatives]
    )


def my_week_models(
    *, org: Organization, key_result_ids: list, initiative_ids: list
) -> tuple[dict[str, KeyResult], dict[str, Initiative]]:
    """The KRs (with objective and cycle) and initiatives of this org that a "Save all" writes, by public id (as str).
    At most two queries, none for an empty list; the write services check who may write them."""
    krs = (
        KeyResult.objects.for_org(org).filter(public_id__in=key_result_ids).select_related("objective__cycle")
        if key_result_ids
        else []
    )
    initiatives = (
        Initiative.objects.for_org(org).filter(public_id__in=initiative_ids).select_related("key_result")
        if initiative_ids
        else []
    )
    return {str(kr.public_id): kr for kr in krs}, {str(i.public_id): i for i in initiatives}


def my_week_summary(*, org: Organization, membership: Membership, today: date | None = None) -> MyWeekSummary:
    """Only the counts of my_week() (for the row saves' out-of-band summary): one query, no rows fetched."""
    week = week_start_for(today or local_today(membership=membership))
    counts = my_active_key_results(org=org, membership=membership).aggregate(
        total=Count("pk"), done=Count(_this_week_checkin(org, week))
    )
    return MyWeekSummary(total=counts["total"], done=counts["done"])


def my_week_kr(*, org: Organization, membership: Membership, key_result_id, today: date | None = None) -> MyWeekKr:
    """One My-week row (for the htmx row swap). 404 unless it is an active KR of this org."""
    kr = get_object_or_404(KeyResult.objects.for_org(org).select_related("objective__cycle"), public_id=key_result_id)
    week = week_start_for(today or local_today(membership=membership))
    checked = CheckIn.objects.for_org(org).filter(key_result=kr, week_start=week).exists()
    return MyWeekKr(kr=kr, shape=KrShape.of(kr), checked_in=checked, objective_title=kr.objective.title)


def owns_active_key_results(*, org: Organization, membership: Membership) -> bool:
    return my_active_key_results(org=org, membership=membership).exists()


def key_result_get(*, org: Organization, key_result_id) -> KeyResult:
    return get_object_or_404(
        KeyResult.objects.for_org(org).select_related("objective__cycle", "owner__user"), public_id=key_result_id
    )


def initiative_get(*, org: Organization, initiative_id) -> Initiative:
    """An initiative of this org with its KR, and `key_result_title` as My week's rows read it. 404 otherwise."""
    initiatives = Initiative.objects.for_org(org).select_related("key_result")
    return get_object_or_404(initiatives.annotate(key_result_title=F("key_result__title")), public_id=initiative_id)


# --- History ------------------------------------------------------------------------------------------------------
@dataclass
class SeriesPoint:
    day: date
    week_start: date
    value: Decimal
    confidence: int | None
    checkin: CheckIn


@dataclass
class KrHistory:
    checkins: list[CheckIn]  # every check-in, newest first
    series: list[SeriesPoint]  # one per week (the newest of that week), oldest first
    superseded_ids: set[int]

    @property
    def points(self) -> list[Point]:
        return [Point(day=p.day, value=p.value) for p in self.series]


def checkin_list(*, org: Organization, key_result: KeyResult) -> QuerySet[CheckIn]:
    return (
        CheckIn.objects.for_org(org)
        .filter(key_result=key_result)
        .select_related("author__user")
        .order_by("-created_at", "-pk")
    )


def kr_history(*, org: Organization, key_result: KeyResult) -> KrHistory:
    """All check-ins (newest first) and the weekly chart series: within a week the newest check-in wins."""
    checkins = list(checkin_list(org=org, key_result=key_result))
    tz = _org_tz(org)
    by_week: dict[date, CheckIn] = {}
    for checkin in checkins:  # newest first, so the first seen in a week is the one that counts
        by_week.setdefault(checkin.week_start, checkin)
    winners = {c.pk for c in by_week.values()}
    series = [
        SeriesPoint(
            day=c.created_at.astimezone(tz).date(),
            week_start=c.week_start,
            value=c.value,
            confidence=c.confidence,
            checkin=c,
        )
        for c in sorted(by_week.values(), key=lambda c: c.week_start)
    ]
    return KrHistory(checkins=checkins, series=series, superseded_ids={c.pk for c in checkins} - winners)


def _org_tz(org: Organization) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(org.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


# --- The KR chart partial -----------------------------------------------------------------------------------------
@dataclass
class TimelineEntry:
    checkin: CheckIn
    value_display: str
    superseded: bool


def kr_chart_context(*, org: Organization, key_result: KeyResult, today: date | None = None) -> dict:
    """Everything templates/checkins/_kr_chart.html needs, in one query (pass a KR with objective__cycle loaded)."""
    cycle = key_result.objective.cycle
    today = today or local_today_for_org(org)
    shape = KrShape.of(key_result)
    history = kr_history(org=org, key_result=key_result)
    forecast: Forecast | None = forecast_end_value(
        history.points, cycle_start=cycle.start_date, cycle_end=cycle.end_date, shape=shape
    )
    forecast_progress = progress_for_value(shape, forecast.value) if forecast else None
    confidence = key_result.confidence
    return {
        "kr": key_result,
        "cycle": cycle,
        "has_data": bool(history.series),
        "chart_svg": charts.value_chart(
            shape=shape,
            title=key_result.title,
            cycle_start=cycle.start_date,
            cycle_end=cycle.end_date,
            series=history.series,
            forecast=forecast,
            today=today,
            chart_id=f"kr-chart-{key_result.public_id}",
        ),
        "confidence_svg": charts.confidence_chart(
            title=key_result.title,
            cycle_start=cycle.start_date,
            cycle_end=cycle.end_date,
            series=history.series,
            chart_id=f"kr-confidence-{key_result.public_id}",
        ),
        "current_display": format_value(shape, key_result.current),
        "target_display": _target_display(shape),
        "forecast": forecast,
        "forecast_display": format_value(shape, forecast.value) if forecast else None,
        "forecast_progress_pct": round(forecast_progress * 100) if forecast_progress is not None else None,
        "confidence": confidence,
        "signal": confidence_disagreement(forecast_progress, confidence),
        "timeline": [
            TimelineEntry(
                checkin=c, value_display=format_value(shape, c.value), superseded=c.pk in history.superseded_ids
            )
            for c in history.checkins
        ],
    }


def _target_display(shape: KrShape) -> str:
    if shape.kind == "maintain":
        low = format_value(shape, shape.band_low) if shape.band_low is not None else None
        high = format_value(shape, shape.band_high) if shape.band_high is not None else None
        if low and high:
            return f"between {low} and {high}"
        return f"at least {low}" if low else (f"at most {high}" if high else "—")
    if shape.is_milestone:
        return format_value(shape, shape.steps or 1)
    return format_value(shape, shape.target)


def local_today_for_org(org: Organization) -> date:
    return timezone.now().astimezone(_org_tz(org)).date()


# --- Visibility ---------------------------------------------------------------------------------------------------
def key_result_visible(*, membership: Membership, key_result: KeyResult) -> bool:
    """Whether the member may see this KR: the one privacy rule of objectives.selectors (one query, none for admins)."""
    if membership.role >= Role.ADMIN:
        return True
    return visible_key_results(membership.organization, membership).filter(pk=key_result.pk).exists()


# --- Landing page -------------------------------------------------------------------------------------------------
def landing_view_name(*, user, org_slug: str) -> str:
    """My week for a member who owns active KRs in that org, else the dashboard (one query)."""
    owns = (
        KeyResult.objects.filter(  # tenancy: scoped by the user's own active membership in the org
            owner__user=user,
            owner__is_active=True,
            owner__organization__slug=org_slug,
            organization__slug=org_slug,
            status=KeyResult.Status.ACTIVE,
        )
        .exclude(objective__cycle__status=Cycle.Status.CLOSED)
        .exists()
    )
    return "checkins:my_week" if owns else "accounts:dashboard"
