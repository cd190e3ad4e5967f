"""health.kr_signals / objective_signals for the API's hot lists, returning the API's signal dicts directly
(DESIGN.md §3, §10).

The lists show every signal of every KR with its reason in words, so this runs 150 times per page. health.kr_signals
builds a frozen dataclass per signal that the serializer then turns into a dict; this builds the dicts at once,
shares the ones that do not vary (no work, unowned, one per task-in-disguise rule set, per initiative count, per
check-in date) within a page, and returns the primary status chip with them. The rules and words are health's
(pace itself comes from health.pace): tests/objectives/test_api_lists.py checks both give equal output on random
facts, so a change to one that is not made to the other fails there.
"""

from __future__ import annotations

import re
from datetime import datetime

from objectives import health
from objectives.health import ACTIVITY_VERBS, AMBER, GREEN, GREY, LABELS, PURPLE, RED, REWRITE_EXAMPLE, Thresholds

_FIRST_WORD = re.compile(r"[A-Za-z]+")  # health.task_in_disguise_rules' words[0]


def _dict(code: str, level: str, reason: str, hint: str | None = None, rule: str | None = None) -> dict:
    return {"code": code, "label": LABELS[code], "level": level, "reason": reason, "hint": hint, "rule": rule}


def _pct(value: float) -> str:
    return f"{round(value * 100)}%"


NO_WORK = _dict(
    "no_work",
    AMBER,
    "Active, but no initiative is meant to move it.",
    hint="Add the bets you expect to move this key result.",
)
UNOWNED = _dict(
    "unowned",
    RED,
    "Nobody owns this key result; it cannot go live without an owner.",
    hint="Assign one named owner.",
)
_WATERMELON_DONE_HINT = "The work shipped but the number did not move: revisit the hypothesis behind the initiatives."
_FEWER_OBJECTIVES_HINT = "Fewer objectives get more done; pick the ones that matter most."
_WATERMELON_CONFIDENT_HINT = "Ask what will close the gap; confidence alone does not move the number."


class PageSignals:
    """The signals of one page's KRs and objectives, under the org's thresholds `t`. Call it for a KR;
    `objective()` for an objective."""

    def __init__(self, t: Thresholds):
        self.t = t
        self.no_work, self.unowned = dict(NO_WORK), dict(UNOWNED)  # shared by the page's KRs, not across pages
        self._task: dict = {}
        self._stale: dict = {}
        self._focus: dict = {}

    def pace(self, progress: float, expected: float, p: float | None) -> dict:
        t = self.t
        if p is None:
            return _dict("on_track", GREEN, f"The cycle has just started; progress is {_pct(progress)}.")
        where = f"{_pct(progress)} done where {_pct(expected)} of the cycle has passed (pace {p:.2f})"
        if p >= t.on_track:
            return _dict("on_track", GREEN, f"{where}.")
        if p >= t.at_risk:
            return _dict("at_risk", AMBER, f"{where}; on track needs pace ≥ {t.on_track:g}.")
        return _dict("off_track", RED, f"{where}; below {t.at_risk:g} is off track.")

    def task_in_disguise(self, title: str, kind: str, unit: str, baseline, target) -> dict | None:
        match = _FIRST_WORD.search(title or "")
        verb = match.group(0) if match and match.group(0).lower() in ACTIVITY_VERBS else None
        milestone = kind == "milestone"
        same = (
            not milestone
            and kind != "maintain"
            and baseline is not None
            and target is not None
            and float(baseline) == float(target)
        )
        no_unit = unit == "none"
        key = (verb, milestone, same, no_unit)
        if key in self._task:
            return self._task[key]
        rules = []
        if verb is not None:
            rules.append(f'the title starts with the activity verb "{verb}"')
        if milestone:
            rules.append("it is a milestone (done or not done) rather than a measured change")
        elif same:
            rules.append("its baseline equals its target, so nothing is meant to change")
        if no_unit:
            rules.append("it has no unit")
        found = self._task[key] = (
            _dict(
                "task_in_disguise",
                AMBER,
                "Looks like a task, not an outcome: " + "; ".join(rules) + ".",
                hint=f"Name the change in a metric this work should cause, e.g. {REWRITE_EXAMPLE}.",
                rule=rules[0],
            )
            if rules
            else None
        )
        return found

    def stale(self, last_checkin_at: datetime | None) -> dict:
        key = None if last_checkin_at is None else last_checkin_at.date()
        found = self._stale.get(key)
        if found is None:
            found = self._stale[key] = _dict("stale", GREY, health.stale_reason(last_checkin_at, self.t.stale_periods))
        return found

    def focus(self, total: int) -> dict:
        found = self._focus.get(total)
        if found is None:
            t = self.t
            found = self._focus[total] = _dict(
                "focus",
                AMBER,
                f"{total} initiatives (more than {t.focus_initiatives}): a backlog, not bets.",
                hint="Keep the few bets you believe in most; move the rest to a backlog.",
                rule="initiatives_per_kr",
            )
        return found

    def watermelon(self, progress, p, confidence, total, done, flat) -> dict | None:
        t = self.t
        if total >= 1 and done / total >= t.watermelon_done_share and (progress < t.watermelon_progress or flat):
            if progress < t.watermelon_progress:
                why = f"progress is only {_pct(progress)}"
            else:
                why = "the value has not moved over the last 3 check-ins"
            return _dict(
                "watermelon",
                PURPLE,
                f"{done} of {total} initiatives are done, but {why}.",
                hint=_WATERMELON_DONE_HINT,
                rule="work_done_number_flat",
            )
        if confidence is not None and p is not None and confidence >= t.watermelon_confidence and p < t.watermelon_pace:
            return _dict(
                "watermelon",
                PURPLE,
                f"The owner reports confidence {confidence}/10 while the pace is {p:.2f}.",
                hint=_WATERMELON_CONFIDENT_HINT,
                rule="confident_but_behind",
            )
        return None

    def objective(
        self,
        *,
        status: str,
        has_owner: bool,
        progress: float,
        expected: float,
        key_results_count: int,
        owner_objectives_in_cycle: int,
        team_objectives_in_cycle: int,
        team_name: str,
    ) -> tuple[list[dict], dict | None]:
        """(health.objective_signals as API dicts, health.primary_status of them)."""
        t = self.t
        signals: list[dict] = []
        primary = None
        if status == "active":
            primary = self.pace(progress, expected, health.pace(progress=progress, expected=expected, t=t))
            signals.append(primary)
        if not has_owner and status in ("draft", "active"):
            signals.append(_dict("unowned", RED, "Nobody owns this objective.", hint="Assign one named owner."))
        if key_results_count > t.focus_key_results:
            signals.append(
                _dict(
                    "focus",
                    AMBER,
                    f"{key_results_count} key results (more than {t.focus_key_results}).",
                    hint="Keep the 2–4 results that best show the objective is met.",
                    rule="key_results_per_objective",
                )
            )
        if team_objectives_in_cycle > t.focus_objectives:
            signals.append(
                _dict(
                    "focus",
                    AMBER,
                    f"{team_name or 'The team'} has {team_objectives_in_cycle} objectives this cycle "
                    f"(more than {t.focus_objectives}).",
                    hint=_FEWER_OBJECTIVES_HINT,
                    rule="objectives_per_team",
                )
            )
        elif owner_objectives_in_cycle > t.focus_objectives:
            signals.append(
                _dict(
                    "focus",
                    AMBER,
                    f"The owner has {owner_objectives_in_cycle} objectives this cycle "
                    f"(more than {t.focus_objectives}).",
                    hint=_FEWER_OBJECTIVES_HINT,
                    rule="objectives_per_person",
                )
            )
        return signals, primary

    def __call__(
        self,
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
        flat: bool,
        last_checkin_at: datetime | None,
        stale: bool,
    ) -> tuple[list[dict], dict | None]:
        """(health.kr_signals as API dicts, health.primary_status of them). `flat`: the last three check-ins
        have one value; `stale`: the last activity is before the owner's stale cut-off."""
        t = self.t
        signals: list[dict] = []
        active = status == "active"
        p = health.pace(progress=progress, expected=expected, t=t)
        primary = None
        if active:
            primary = self.pace(progress, expected, p)
            signals.append(primary)
        watermelon = self.watermelon(progress, p, confidence, initiatives_total, initiatives_done, flat)
        if watermelon and status != "closed":
            signals.append(watermelon)
        elif confidence is not None and p is not None and active:
            if confidence <= t.low_confidence and p >= t.on_track:
                signals.append(
                    _dict(
                        "confidence_mismatch",
                        AMBER,
                        f"On track by the numbers, but the owner's confidence is only {confidence}/10.",
                        hint="Ask the owner what they see coming that the numbers don't show yet.",
                    )
                )
            elif confidence >= t.watermelon_confidence and p < t.on_track:
                signals.append(
                    _dict(
                        "confidence_mismatch",
                        AMBER,
                        f"The owner's confidence is {confidence}/10 while the pace is {p:.2f}.",
                        hint="Check whether the plan to catch up is real.",
                    )
                )
        task = self.task_in_disguise(title, kind, unit, baseline, target)
        if task is not None:
            signals.append(task)
        if active and stale:
            primary = self.stale(last_checkin_at)  # stale overrides the pace status (health.primary_status)
            signals.append(primary)
        if active and initiatives_total == 0:
            signals.append(self.no_work)
        if not has_owner and status != "closed":
            signals.append(self.unowned)
        if initiatives_total > t.focus_initiatives:
            signals.append(self.focus(initiatives_total))
        return signals, primary
