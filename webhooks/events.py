"""The events other apps' services emit, and the `data` of each (DESIGN.md §8).

Each helper is one line at its call site and builds the payload only when an endpoint of the org is subscribed
(the builders run lazily inside webhook_emit), so orgs without webhooks pay nothing. Payloads carry public ids,
titles and values, never database keys. Numbers with decimals are strings ("12.5") so no precision is lost.
"""

from __future__ import annotations

from decimal import Decimal

from webhooks.models import Event
from webhooks.services import webhook_emit, webhook_emit_many
from webhooks.subscriptions import subscriptions_read_once

# Wrap a batch of writes (a whole "My week" form) so the org's subscriptions are looked up once, not once per row.
webhook_batch = subscriptions_read_once


def _num(value) -> str | None:
    if value is None:
        return None
    text = format(Decimal(value).normalize(), "f")
    return "0" if text in ("-0", "") else text


def _person(membership) -> dict | None:
    if membership is None:
        return None
    return {"id": str(membership.public_id), "name": membership.user.display_name}


def _objective(objective) -> dict:
    return {"id": str(objective.public_id), "title": objective.title}


def emit_checkin_created(*, org, checkin, key_result, previous_value, actor) -> None:
    """`checkin.created`: a new value (and confidence) on a key result, from any path (page, API, nudge link)."""
    from objectives.progress import kr_progress

    kr = key_result

    def data() -> dict:
        progress = kr_progress(
            kind=kr.kind,
            baseline=kr.baseline,
            target=kr.target,
            current=kr.current,
            band_low=kr.band_low,
            band_high=kr.band_high,
            milestone_steps=kr.milestone_steps,
        )
        return {
            "check_in": {
                "id": str(checkin.public_id),
                "value": _num(checkin.value),
                "confidence": checkin.confidence,
                "comment": checkin.comment,
                "week_start": checkin.week_start.isoformat(),
                "is_late": checkin.is_late,
                "created_at": checkin.created_at,
            },
            "key_result": {
                "id": str(kr.public_id),
                "title": kr.title,
                "kind": kr.kind,
                "unit": kr.unit,
                "unit_label": kr.unit_label,
                "baseline": _num(kr.baseline),
                "target": _num(kr.target),
                "previous_value": _num(previous_value),
                "current": _num(kr.current),
                "confidence": kr.confidence,
                "progress": round(progress.value, 4),
            },
            "objective": _objective(kr.objective),
            "author": _person(actor),
        }

    webhook_emit(org=org, event_type=Event.CHECKIN_CREATED, data=data)


def emit_objective_status_changed(*, org, objective, old_status: str, actor) -> None:
    """`objective.status_changed`: published (draft → active), closed or archived."""
    if old_status == objective.status:
        return

    def data() -> dict:
        cycle = objective.cycle
        return {
            "objective": {
                **_objective(objective),
                "level": objective.level,
                "status": objective.status,
                "cycle": {"id": str(cycle.public_id), "name": cycle.name},
            },
            "old_status": old_status,
            "new_status": objective.status,
            "actor": _person(actor),
        }

    webhook_emit(org=org, event_type=Event.OBJECTIVE_STATUS_CHANGED, data=data)


def emit_key_results_status_changed(*, org, changes: list[tuple[object, str]], actor, objective=None) -> None:
    """`key_result.status_changed` for each (key result, old status) whose status really changed (one statement).
    `objective`: the KRs' objective when the caller has it loaded (else each KR's is read, only if subscribed)."""

    def builder(kr, old_status):
        def data() -> dict:
            return {
                "key_result": {
                    "id": str(kr.public_id),
                    "title": kr.title,
                    "status": kr.status,
                    "current": _num(kr.current),
                    "target": _num(kr.target),
                    "score": _num(kr.score),
                },
                "objective": _objective(objective or kr.objective),
                "old_status": old_status,
                "new_status": kr.status,
                "actor": _person(actor),
            }

        return data

    events = [(Event.KEY_RESULT_STATUS_CHANGED, builder(kr, old)) for kr, old in changes if old != kr.status]
    if events:
        webhook_emit_many(org=org, events=events)


def emit_initiative_status_changed(*, org, initiative, old_status: str, actor) -> None:
    """`initiative.status_changed`: e.g. in progress → blocked, or → done (progress is then 100)."""
    if old_status == initiative.status:
        return

    def data() -> dict:
        kr = initiative.key_result
        return {
            "initiative": {
                "id": str(initiative.public_id),
                "title": initiative.title,
                "status": initiative.status,
                "progress": initiative.progress,
                "due_date": initiative.due_date,
            },
            "key_result": {"id": str(kr.public_id), "title": kr.title},
            "old_status": old_status,
            "new_status": initiative.status,
            "actor": _person(actor),
        }

    webhook_emit(org=org, event_type=Event.INITIATIVE_STATUS_CHANGED, data=data)
