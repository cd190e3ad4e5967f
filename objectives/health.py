"""Health signals (DESIGN.md §3). Pure functions: selectors fetch the facts in bulk, these judge them.

Each signal carries its reason in words, so a page, the map, a digest and the API all say *why*.
Thresholds default to DESIGN.md §3 and can be tuned per organization in `Organization.signal_settings`.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, timedelta

GREEN, AMBER, RED, GREY, PURPLE = "green", "amber", "red", "grey", "purple"

# Codes and their labels (the API documents these; the cycle page filters on them).
LABELS = {
    "on_track": "On track",
    "at_risk": "At risk",
    "off_track": "Off track",
    "confidence_mismatch": "Confidence mismatch",
    "watermelon": "Watermelon",
    "task_in_disguise": "Task in disguise",
    "stale": "Stale",
    "no_work": "No work behind it",
    "unowned": "Unowned",
    "focus": "Too many",
    "overdue": "Overdue",
    "blocked": "Blocked",
}
SIGNAL_CODES = tuple(LABELS)
# The focus code has a rule per thing there is too much of; a board row names it, so an objective whose owner has
# too many objectives and whose KR has too many initiatives shows two different chips ("Too many | Too many" said
# nothing). Only the words on screen: the code stays "focus" and the API's label "Too many".
FOCUS_LABELS = {
    "objectives_per_person": "Too many objectives",
    "objectives_per_team": "Too many objectives",
    "key_results_per_objective": "Too many KRs",
    "initiatives_per_kr": "Too many initiatives",
}

# Activity verbs that betray a task written as a key result ("Launch onboarding v2").
ACTIVITY_VERBS = frozenset(
    {
        "launch",
        "ship",
        "build",
        "release",
        "complete",
        "implement",
        "create",
        "write",
        "hold",
        "deliver",
        "migrate",
        "hire",
        "finish",
        "roll",
        "set",
        "design",
        "develop",
        "run",
        "organize",
        "organise",
        "publish",
        "introduce",
        "add",
        "update",
        "integrate",
        "deploy",
        "conduct",
        "start",
        "prepare",
        "define",
        "document",
        "redesign",
        "rewrite",
        "refactor",
        "establish",
        "train",
        "move",
        "send",
        "host",
        "install",
        "upgrade",
        "replace",
        "automate",
        "test",
        "review",
        "finalize",
        "finalise",
        "kick",
        "plan",
        "draft",
        "",
    }
)
REWRITE_EXAMPLE = '"Launch onboarding v2" → "Increase Day-7 activation from 34% to 52%"'


@dataclass(frozen=True)
class Thresholds:
    """Signal thresholds. Defaults are DESIGN.md §3; `thresholds_for(org)` merges the org's overrides."""

    on_track: float = 0.8  # pace ≥ this → on track
    at_risk: float = 0.5  # pace ≥ this → at risk, else off track
    watermelon_progress: float = 0.3  # KR progress below this ...
    watermelon_done_share: float = 0.8  # ... while this share of its initiatives is done
    watermelon_confidence: int = 7  # or owner confidence ≥ this ...
    watermelon_pace: float = 0.5  # ... while pace is below this
    low_confidence: int = 4  # confidence ≤ this while on track is a mismatch
    stale_periods: int = 2  # missed check-in periods before a KR is stale
    checkin_period_days: int = 7
    focus_objectives: int = 5  # per team or person per cycle
    focus_key_results: int = 4  # per objective
    focus_initiatives: int = 5  # per KR
    early_cycle: float = 0.05  # below this expected progress, pace is not judged yet


DEFAULT_THRESHOLDS = Thresholds()


def thresholds_for(signal_settings: dict | None) -> Thresholds:
    """Merge an org's `signal_settings` over the defaults; unknown keys and values of the wrong type are ignored."""
    if not signal_settings or not isinstance(signal_settings, dict):
        return DEFAULT_THRESHOLDS
    values = {}
    for f in fields(Thresholds):
        raw = signal_settings.get(f.name)
        if raw is None or isinstance(raw, bool):
            continue
        caster = int if isinstance(getattr(DEFAULT_THRESHOLDS, f.name), int) else float
        try:
            value = caster(raw)
        except (TypeError, ValueError):
            continue
        if value >= 0:
            values[f.name] = value
    return Thresholds(**values)


@dataclass(frozen=True)
class Signal:
    code: str
    label: str
    level: str  # green | amber | red | grey | purple
    reason: str
    hint: str | None = None
    rule: str | None = None  # which rule fired, when a code has several (task_in_disguise, watermelon, focus)

    def as_dict(self) -> dict:
        return asdict(self)


def _signal(code: str, level: str, reason: str, hint: str | None = None, rule: str | None = None) -> Signal:
    return Signal(code=code, label=LABELS[code], level=level, reason=reason, hint=hint, rule=rule)


def _pct(value: float) -> str:
    return f"{round(value * 100)}%"


# --- Pace ---------------------------------------------------------------------------------------------------------
def pace(*, progress: float, expected: float, t: Thresholds = DEFAULT_THRESHOLDS) -> float | None:
    """progress ÷ expected progress; None early in the cycle, when pace means nothing yet."""
    if expected < t.early_cycle or expected <= 0:
        return None
    return progress / expected


def pace_signal(*, progress: float, expected: float, t: Thresholds = DEFAULT_THRESHOLDS) -> Signal:
    """on_track / at_risk / off_track from pace = progress ÷ expected progress today."""
    p = pace(progress=progress, expected=expected, t=t)
    if p is None:
        return _signal("on_track", GREEN, f"The cycle has just started; progress is {_pct(progress)}.")
    where = f"{_pct(progress)} done where {_pct(expected)} of the cycle has passed (pace {p:.2f})"
    if p >= t.on_track:
        return _signal("on_track", GREEN, f"{where}.")
    if p >= t.at_risk:
        return _signal("at_risk", AMBER, f"{where}; on track needs pace ≥ {t.on_track:g}.")
    return _signal("off_track", RED, f"{where}; below {t.at_risk:g} is off track.")


# --- Stale --------------------------------------------------------------------------------------------------------
def last_checkin_slot(*, now: datetime, weekday: int, hour: int, tz: str) -> datetime:
    """The owner's most recent check-in slot (weekday at hour, local time) at or before `now`."""
    try:
        zone = zoneinfo.ZoneInfo(tz or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    local = now.astimezone(zone)
    days_back = (local.weekday() - weekday) % 7
    slot = (local - timedelta(days=days_back)).replace(hour=hour, minute=0, second=0, microsecond=0)
    if slot > local:
        slot -= timedelta(days=7)
    return slot


def stale_cutoff(*, now: datetime, weekday: int, hour: int, tz: str, t: Thresholds = DEFAULT_THRESHOLDS) -> datetime:
    """Last activity before this instant makes an active KR stale (see is_stale). Depends only on the owner's
    check-in slot, so bulk readers compute it once per (timezone, weekday, hour) rather than once per KR."""
    slot = last_checkin_slot(now=now, weekday=weekday, hour=hour, tz=tz)
    return slot - timedelta(days=t.checkin_period_days * max(t.stale_periods - 1, 0))


def stale_reason(last_checkin_at: datetime | None, periods: int) -> str:
    if last_checkin_at is None:
        return f"No check-in in the last {periods} check-in periods; its status is out of date."
    when = f"{last_checkin_at:%d %b}"
    return f"Last check-in on {when}, more than {periods} check-in periods ago; its status is out of date."


def is_stale(
    *,
    last_activity: datetime | None,
    now: datetime,
    weekday: int,
    hour: int,
    tz: str,
    t: Thresholds = DEFAULT_THRESHOLDS,
) -> bool:
    """True when no check-in happened during the last `stale_periods` check-in periods of the owner.

    The periods are the windows between the owner's check-in slots; the current, unfinished one counts.
    """
    if last_activity is None:
        return False
    return last_activity < stale_cutoff(now=now, weekday=weekday, hour=hour, tz=tz, t=t)


# --- Key results --------------------------------------------------------------------------------------------------
def task_in_disguise_rules(*, title: str, kind: str, unit: str, baseline, target) -> list[str]:
    """Which task-in-disguise rules fire, in words (empty list: none)."""
    rules = []
    words = re.findall(r"[A-Za-z]+", title or "")
    if words and words[0].lower() in ACTIVITY_VERBS:
        rules.append(f'the title starts with the activity verb "{words[0]}"')
    if kind == "milestone":
        rules.append("it is a milestone (done or not done) rather than a measured change")
    elif kind != "maintain" and baseline is not None and target is not None and float(baseline) == float(target):
        rules.append("its baseline equals its target, so nothing is meant to change")
    if unit == "none":
        rules.append("it has no unit")
    return rules


def kr_signals(
    *,
    title: str,
    kind: str,
    unit: str,
    baseline,
    target,
    status: str,
    has_owner: bool,
    progress: float,
    expected: float,
    confidence: int | None,
    initiatives_total: int,
    initiatives_done: int,
    recent_values: list,
    last_checkin_at: datetime | None,
    created_at: datetime | None,
    now: datetime,
    checkin_weekday: int = 0,
    checkin_hour: int = 9,
    tz: str = "UTC",
    t: Thresholds = DEFAULT_THRESHOLDS,
    stale_cutoff: datetime | None = None,
) -> list[Signal]:
    """All signals of one key result, the pace status first.

    `initiatives_total`/`initiatives_done` exclude cancelled initiatives; `recent_values` are the values of the last
    3 check-ins, newest first. Stale uses the last check-in, or the creation time when there was none yet.
    Stale, no-work and the pace status are only judged for active KRs (a draft has nothing to report yet).
    `stale_cutoff` (from health.stale_cutoff for the owner's slot) saves the time-zone arithmetic in bulk reads.
    """
    signals: list[Signal] = []
    active = status == "active"
    p = pace(progress=progress, expected=expected, t=t)
    if active:
        signals.append(pace_signal(progress=progress, expected=expected, t=t))

    watermelon = _watermelon(progress, p, confidence, initiatives_total, initiatives_done, recent_values, t)
    if watermelon and status != "closed":
        signals.append(watermelon)
    elif confidence is not None and p is not None and active:
        if confidence <= t.low_confidence and p >= t.on_track:
            signals.append(
                _signal(
                    "confidence_mismatch",
                    AMBER,
                    f"On track by the numbers, but the owner's confidence is only {confidence}/10.",
                    hint="Ask the owner what they see coming that the numbers don't show yet.",
                )
            )
        elif confidence >= t.watermelon_confidence and p < t.on_track:
            signals.append(
                _signal(
                    "confidence_mismatch",
                    AMBER,
                    f"The owner's confidence is {confidence}/10 while the pace is {p:.2f}.",
                    hint="Check whether the plan to catch up is real.",
                )
            )

    rules = task_in_disguise_rules(title=title, kind=kind, unit=unit, baseline=baseline, target=target)
    if rules:
        signals.append(
            _signal(
                "task_in_disguise",
                AMBER,
                "Looks like a task, not an outcome: " + "; ".join(rules) + ".",
                hint=f"Name the change in a metric this work should cause, e.g. {REWRITE_EXAMPLE}.",
                rule=rules[0],
            )
        )
    last_activity = last_checkin_at or created_at
    if stale_cutoff is not None:
        stale = last_activity is not None and last_activity < stale_cutoff
    else:
        stale = is_stale(last_activity=last_activity, now=now, weekday=checkin_weekday, hour=checkin_hour, tz=tz, t=t)
    if active and stale:
        signals.append(_signal("stale", GREY, stale_reason(last_checkin_at, t.stale_periods)))
    if active and initiatives_total == 0:
        signals.append(
            _signal(
                "no_work",
                AMBER,
                "Active, but no initiative is meant to move it.",
                hint="Add the bets you expect to move this key result.",
            )
        )
    if not has_owner and status != "closed":
        signals.append(
            _signal(
                "unowned",
                RED,
                "Nobody owns this key result; it cannot go live without an owner.",
                hint="Assign one named owner.",
            )
        )
    if initiatives_total > t.focus_initiatives:
        signals.append(
            _signal(
                "focus",
                AMBER,
                f"{initiatives_total} initiatives (more than {t.focus_initiatives}): a backlog, not bets.",
                hint="Keep the few bets you believe in most; move the rest to a backlog.",
                rule="initiatives_per_kr",
            )
        )
    return signals


def _watermelon(progress, p, confidence, total, done, recent_values, t: Thresholds) -> Signal | None:
    """Green outside, red inside: work looks finished (or confidence high) while the number does not move."""
    if total >= 1 and done / total >= t.watermelon_done_share:
        flat = len(recent_values) >= 3 and len({float(v) for v in recent_values[:3]}) == 1
        if progress < t.watermelon_progress or flat:
            if progress < t.watermelon_progress:
                why = f"progress is only {_pct(progress)}"
            else:
                why = "the value has not moved over the last 3 check-ins"
            return _signal(
                "watermelon",
                PURPLE,
                f"{done} of {total} initiatives are done, but {why}.",
                hint="The work shipped but the number did not move: revisit the hypothesis behind the initiatives.",
                rule="work_done_number_flat",
            )
    if confidence is not None and p is not None and confidence >= t.watermelon_confidence and p < t.watermelon_pace:
        return _signal(
            "watermelon",
            PURPLE,
            f"The owner reports confidence {confidence}/10 while the pace is {p:.2f}.",
            hint="Ask what will close the gap; confidence alone does not move the number.",
            rule="confident_but_behind",
        )
    return None


# --- Objectives ---------------------------------------------------------------------------------------------------
def objective_signals(
    *,
    status: str,
    has_owner: bool,
    progress: float,
    expected: float,
    key_results_count: int,
    owner_objectives_in_cycle: int = 0,
    team_objectives_in_cycle: int = 0,
    team_name: str = "",
    t: Thresholds = DEFAULT_THRESHOLDS,
) -> list[Signal]:
    """Signals of an objective itself (its KRs carry their own; a roll-up never hides them)."""
    signals: list[Signal] = []
    if status == "active":
        signals.append(pace_signal(progress=progress, expected=expected, t=t))
    if not has_owner and status in ("draft", "active"):
        signals.append(_signal("unowned", RED, "Nobody owns this objective.", hint="Assign one named owner."))
    if key_results_count > t.focus_key_results:
        signals.append(
            _signal(
                "focus",
                AMBER,
                f"{key_results_count} key results (more than {t.focus_key_results}).",
                hint="Keep the 2–4 results that best show the objective is met.",
                rule="key_results_per_objective",
            )
        )
    if team_objectives_in_cycle > t.focus_objectives:
        signals.append(
            _signal(
                "focus",
                AMBER,
                f"{team_name or 'The team'} has {team_objectives_in_cycle} objectives this cycle "
                f"(more than {t.focus_objectives}).",
                hint="Fewer objectives get more done; pick the ones that matter most.",
                rule="objectives_per_team",
            )
        )
    elif owner_objectives_in_cycle > t.focus_objectives:
        signals.append(
            _signal(
                "focus",
                AMBER,
                f"The owner has {owner_objectives_in_cycle} objectives this cycle (more than {t.focus_objectives}).",
                hint="Fewer objectives get more done; pick the ones that matter most.",
                rule="objectives_per_person",
            )
        )
    return signals


# --- Initiatives --------------------------------------------------------------------------------------------------
def initiative_signals(*, status: str, has_owner: bool, due_date: date | None, today: date) -> list[Signal]:
    """Signals of one initiative: unowned, blocked, overdue."""
    signals: list[Signal] = []
    open_ = status not in ("done", "cancelled")
    if not has_owner and open_:
        signals.append(_signal("unowned", RED, "Nobody owns this initiative.", hint="Assign one named owner."))
    if status == "blocked":
        signals.append(_signal("blocked", RED, "Marked as blocked."))
    if open_ and due_date is not None and due_date < today:
        signals.append(_signal("overdue", AMBER, f"Was due on {due_date:%d %b %Y} and is not done."))
    return signals


# --- Codes only (bulk) --------------------------------------------------------------------------------------------
# The cycle board and the map judge every objective of a cycle to count and filter by signal, but draw the chips
# (with reasons) of a page only. Per KR that happens in PostgreSQL (objectives.health_sql); per objective here,
# with the same codes as objective_signals and no reasons (tests/objectives/test_board.py checks them).
def pace_code(*, progress: float, expected: float, t: Thresholds = DEFAULT_THRESHOLDS) -> str:
    p = pace(progress=progress, expected=expected, t=t)
    if p is None or p >= t.on_track:
        return "on_track"
    return "at_risk" if p >= t.at_risk else "off_track"


def objective_signal_codes(
    *,
    status: str,
    has_owner: bool,
    progress: float,
    expected: float,
    key_results_count: int,
    owner_objectives_in_cycle: int = 0,
    team_objectives_in_cycle: int = 0,
    t: Thresholds = DEFAULT_THRESHOLDS,
) -> list[str]:
    """The codes objective_signals would return, in its order."""
    codes: list[str] = []
    if status == "active":
        codes.append(pace_code(progress=progress, expected=expected, t=t))
    if not has_owner and status in ("draft", "active"):
        codes.append("unowned")
    if key_results_count > t.focus_key_results:
        codes.append("focus")
    if team_objectives_in_cycle > t.focus_objectives or owner_objectives_in_cycle > t.focus_objectives:
        codes.append("focus")
    return codes


def primary_status(signals: list[Signal]) -> Signal | None:
    """The one chip that stands for the object on a map: stale overrides the pace status (greyed), DESIGN.md §3."""
    by_code = {s.code: s for s in signals}
    for code in ("stale", "off_track", "at_risk", "on_track"):
        if code in by_code:
            return by_code[code]
    return None
