"""Writes for check-ins: one KR, one initiative, or a whole "My week" form at once (DESIGN.md §2, §6)."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import Membership, Organization, Role
from checkins.models import CheckIn
from initiatives.models import Initiative
from initiatives.services import initiative_update
from objectives.models import Cycle, KeyResult
from okrapp.numbers import parse_number
from webhooks.events import emit_checkin_created, webhook_batch

# DecimalField(max_digits=18, decimal_places=4): at most 14 digits before the point.
MAX_ABS_VALUE = Decimal(10) ** 14
COMMENT_MAX_LENGTH = 4000


# --- Time ---------------------------------------------------------------------------------------------------------
def local_today(*, membership: Membership, now: datetime | None = None) -> date:
    """The member's calendar date at `now`, in their effective timezone (membership override, else org)."""
    now = now or timezone.now()
    try:
        tz = zoneinfo.ZoneInfo(membership.effective_timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo("UTC")
    return now.astimezone(tz).date()


def week_start_for(day: date) -> date:
    """Monday of the ISO week containing `day`."""
    return day - timedelta(days=day.weekday())


# --- Validation ---------------------------------------------------------------------------------------------------
def checkin_clean_value(*, key_result: KeyResult, value) -> Decimal:
    """Parse and check a value against the KR's kind; ValidationError({"value": ...}) with a clear message."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError({"value": "Enter a value."})
    if isinstance(value, float):
        value = repr(value)
    try:
        number = parse_number(value) if isinstance(value, str) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({"value": "Enter a number."}) from None
    if not number.is_finite():
        raise ValidationError({"value": "Enter a finite number."})
    if abs(number) >= MAX_ABS_VALUE:
        raise ValidationError({"value": "That number is too large (at most 14 digits before the decimal point)."})
    if number.as_tuple().exponent < -4 and number != number.quantize(Decimal("0.0001")):
        raise ValidationError({"value": "Use at most 4 decimal places."})
    if key_result.kind == KeyResult.Kind.MILESTONE:
        steps = len(key_result.milestone_steps or [])
        if steps:
            if number != number.to_integral_value() or not 0 <= number <= steps:
                raise ValidationError(
                    {"value": f"Enter how many of the {steps} steps are done: a whole number 0–{steps}."}
                )
        elif number not in (0, 1):
            raise ValidationError({"value": "This milestone is either done (1) or not done (0)."})
    return number.quantize(Decimal("0.0001"))


def checkin_clean_confidence(confidence) -> int | None:
    if confidence is None or (isinstance(confidence, str) and not confidence.strip()):
        return None
    try:
        number = Decimal(str(confidence).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({"confidence": "Confidence is a whole number from 0 to 10."}) from None
    if not number.is_finite() or number != number.to_integral_value() or not 0 <= number <= 10:
        raise ValidationError({"confidence": "Confidence is a whole number from 0 to 10."})
    return int(number)


def _check_can_check_in(*, org: Organization, actor: Membership, owner_id: int | None, what: str) -> None:
    if actor.organization_id != org.pk or not actor.is_active:
        raise PermissionDenied("Not a member of this organization.")
    if actor.role >= Role.ADMIN:
        return
    if actor.role < Role.MEMBER or owner_id != actor.pk:
        raise PermissionDenied(f"Only the {what}'s owner or an admin can check in on it.")


@dataclass
class _CleanCheckin:
    key_result: KeyResult
    value: Decimal
    confidence: int | None
    comment: str


def _clean(*, org, actor, key_result, value, confidence, comment) -> _CleanCheckin:
    """All checks for one check-in, collecting every field error at once."""
    if key_result.organization_id != org.pk:
        raise Http404("No such key result.")  # never reveal another tenant's objects
    _check_can_check_in(org=org, actor=actor, owner_id=key_result.owner_id, what="key result")
    errors: dict[str, list[str]] = {}
    clean = _CleanCheckin(key_result=key_result, value=Decimal(0), confidence=None, comment=(comment or "").strip())
    if key_result.status == KeyResult.Status.DRAFT:
        errors.setdefault("__all__", []).append("This key result is still a draft. Publish it before checking in.")
    try:
        clean.value = checkin_clean_value(key_result=key_result, value=value)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        clean.confidence = checkin_clean_confidence(confidence)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if len(clean.comment) > COMMENT_MAX_LENGTH:
        errors["comment"] = [f"Keep the comment under {COMMENT_MAX_LENGTH} characters."]
    if errors:
        raise ValidationError(errors)
    return clean


def _is_late(kr: KeyResult, local_day: date) -> bool:
    """After the cycle closed or ended, or after the KR was scored (its objective closed): kept, and flagged."""
    cycle = kr.objective.cycle
    return kr.status == KeyResult.Status.CLOSED or cycle.status == Cycle.Status.CLOSED or local_day > cycle.end_date


def _write(*, org, actor, clean: _CleanCheckin, now: datetime | None, locked: bool = False) -> CheckIn:
    # Lock the KR so concurrent check-ins apply in order: KR.current always equals the newest check-in's value.
    if locked:
        assert transaction.get_connection().in_atomic_block
        kr = clean.key_result
    else:
        kr = (
            KeyResult.objects.for_org(org)
            .select_for_update(of=("self",))
            .select_related("objective__cycle")
            .get(pk=clean.key_result.pk)
        )
    explicit_now, now = now is not None, now or timezone.now()
    local_day = local_today(membership=actor, now=now)
    checkin = CheckIn.objects.create(
        organization=org,
        key_result=kr,
        author=actor,
        value=clean.value,
        confidence=clean.confidence,
        comment=clean.comment,
        week_start=week_start_for(local_day),
        is_late=_is_late(kr, local_day),
    )
    # created_at is auto_now_add; an explicit `now` (imports, replays, tests) must win so history and weeks agree.
    if explicit_now:
        CheckIn.objects.filter(pk=checkin.pk).update(created_at=now)
        checkin.created_at = now
    old_value, old_confidence = kr.current, kr.confidence
    kr.current = clean.value
    if clean.confidence is not None:
        kr.confidence = clean.confidence
    kr.last_checkin_at = now
    kr.save(update_fields=["current", "confidence", "last_checkin_at", "updated_at"])
    audit_record(
        org=org,
        actor=actor.user,
        verb="checkin.created",
        target=kr,
        diff={
            "value": [str(old_value), str(kr.current)],
            "confidence": [old_confidence, kr.confidence],
            "week_start": checkin.week_start.isoformat(),
            "is_late": checkin.is_late,
        },
    )
    # Outbox: the delivery rows commit with the check-in (no SQL at all when no endpoint of the org listens).
    emit_checkin_created(org=org, checkin=checkin, key_result=kr, previous_value=old_value, actor=actor)
    # Callers holding the same KR object see the new state.
    for attr in ("current", "confidence", "last_checkin_at"):
        setattr(clean.key_result, attr, getattr(kr, attr))
    return checkin


# --- Services -----------------------------------------------------------------------------------------------------
@transaction.atomic
def checkin_submit(
    *,
    org: Organization,
    actor: Membership,
    key_result: KeyResult,
    value,
    confidence=None,
    comment: str = "",
    now: datetime | None = None,
    locked: bool = False,
) -> CheckIn:
    """Record a check-in on a KR and make it the KR's current value.

    Only the KR owner or an ADMIN+ may check in (an API token acts as its member). A second check-in in the same week
    is kept; charts use the newest one of each week. After the cycle closed (or ended) the check-in is flagged late.
    `locked=True`: the caller read `key_result` with select_for_update (and its objective's cycle) inside the
    current transaction, so it is not read and locked a second time.
    """
    clean = _clean(org=org, actor=actor, key_result=key_result, value=value, confidence=confidence, comment=comment)
    return _write(org=org, actor=actor, clean=clean, now=now, locked=locked)


def initiative_clean(*, initiative: Initiative, status, progress) -> tuple[str, int]:
    errors: dict[str, str] = {}
    if status not in Initiative.Status.values:
        errors["status"] = "Choose one of: " + ", ".join(str(label) for label in Initiative.Status.labels) + "."
    try:
        number = Decimal(str(progress).strip())
        if not number.is_finite() or number != number.to_integral_value() or not 0 <= number <= 100:
            raise ValueError
    except (InvalidOperation, ValueError, TypeError):
        errors["progress"] = "Progress is a whole number from 0 to 100."
        number = Decimal(0)
    if errors:
        raise ValidationError(errors)
    return status, int(number)


@transaction.atomic
def initiative_checkin(
    *, org: Organization, actor: Membership, initiative: Initiative, status: str, progress
) -> Initiative:
    """Update an initiative's status and manual progress from a weekly check-in (owner or ADMIN+)."""
    if initiative.organization_id != org.pk:
        raise Http404("No such initiative.")
    _check_can_check_in(org=org, actor=actor, owner_id=initiative.owner_id, what="initiative")
    status, progress = initiative_clean(initiative=initiative, status=status, progress=progress)
    if (initiative.status, initiative.progress) == (status, progress):
        return initiative
    # The one write path for initiatives (validation, "done means 100%", audit) lives in initiatives.services.
    return initiative_update(org=org, actor=actor, initiative=initiative, status=status, progress=progress)


@dataclass
class CheckinRow:
    key_result: KeyResult
    value: object
    confidence: object = None
    comment: str = ""


@dataclass
class InitiativeRow:
    initiative: Initiative
    status: str
    progress: object


@dataclass
class BatchResult:
    checkins: list[CheckIn] = field(default_factory=list)
    initiatives: list[Initiative] = field(default_factory=list)


class BatchValidationError(ValidationError):
    """Some rows are invalid; nothing was written. `row_errors` maps a row's public_id to its field errors."""

    def __init__(self, row_errors: dict[str, dict[str, list[str]]]):
        self.row_errors = row_errors
        count = len(row_errors)
        super().__init__(
            f"{count} row{'s' if count != 1 else ''} need{'s' if count == 1 else ''} fixing. Nothing was saved."
        )


@transaction.atomic
def checkin_submit_many(
    *,
    org: Organization,
    actor: Membership,
    checkins: list[CheckinRow],
    initiatives: list[InitiativeRow] = (),
    now: datetime | None = None,
) -> BatchResult:
    """Save a whole "My week" form: every row is checked first; one bad row means nothing is written."""
    row_errors: dict[str, dict[str, list[str]]] = {}
    cleaned: list[_CleanCheckin] = []
    for row in checkins:
        try:
            cleaned.append(
                _clean(
                    org=org,
                    actor=actor,
                    key_result=row.key_result,
                    value=row.value,
                    confidence=row.confidence,
                    comment=row.comment,
                )
            )
        except ValidationError as exc:
            row_errors[str(row.key_result.public_id)] = exc.message_dict
    for row in initiatives:
        if row.initiative.organization_id != org.pk:
            raise Http404("No such initiative.")
        _check_can_check_in(org=org, actor=actor, owner_id=row.initiative.owner_id, what="initiative")
        try:
            initiative_clean(initiative=row.initiative, status=row.status, progress=row.progress)
        except ValidationError as exc:
            row_errors[str(row.initiative.public_id)] = exc.message_dict
    if row_errors:
        raise BatchValidationError(row_errors)
    result = BatchResult()
    with webhook_batch():  # the org's webhook subscriptions are looked up once for all rows
        for clean in cleaned:
            result.checkins.append(_write(org=org, actor=actor, clean=clean, now=now))
        for row in initiatives:
            result.initiatives.append(
                initiative_checkin(
                    org=org, actor=actor, initiative=row.initiative, status=row.status, progress=row.progress
                )
            )
    return result
