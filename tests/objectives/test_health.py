"""Every health-signal rule (DESIGN.md §3), with its reason in words."""

from datetime import UTC, date, datetime, timedelta

from objectives import health
from objectives.health import DEFAULT_THRESHOLDS, thresholds_for

NOW = datetime(2026, 5, 13, 12, 0, tzinfo=UTC)  # a Wednesday


def signals(**overrides):
    facts = {
        "title": "Increase weekly active teams",
        "kind": "increase",
        "unit": "number",
        "baseline": 0,
        "target": 100,
        "status": "active",
        "has_owner": True,
        "progress": 0.5,
        "expected": 0.5,
        "confidence": None,
        "initiatives_total": 2,
        "initiatives_done": 0,
        "recent_values": [],
        "last_checkin_at": NOW - timedelta(days=1),
        "created_at": NOW - timedelta(days=60),
        "now": NOW,
    }
    facts.update(overrides)
    return {s.code: s for s in health.kr_signals(**facts)}


def test_pace_on_track_at_risk_off_track():
    assert "on_track" in signals(progress=0.45, expected=0.5)
    at_risk = signals(progress=0.3, expected=0.5)["at_risk"]
    assert at_risk.level == "amber" and "pace 0.60" in at_risk.reason
    assert signals(progress=0.2, expected=0.5)["off_track"].level == "red"


def test_pace_is_not_judged_in_the_first_days():
    s = signals(progress=0.0, expected=0.01)
    assert "on_track" in s and "just started" in s["on_track"].reason


def test_draft_kr_has_no_pace_or_stale_or_no_work():
    s = signals(status="draft", initiatives_total=0, last_checkin_at=None, progress=0.0)
    assert not {"on_track", "off_track", "stale", "no_work"} & set(s)


def test_watermelon_when_work_is_done_but_progress_low():
    s = signals(progress=0.1, expected=0.5, initiatives_total=5, initiatives_done=4)
    assert s["watermelon"].level == "purple"
    assert "4 of 5 initiatives are done" in s["watermelon"].reason


def test_watermelon_when_value_flat_over_last_three_checkins():
    s = signals(progress=0.6, expected=0.6, initiatives_total=1, initiatives_done=1, recent_values=[60, 60, 60])
    assert "not moved over the last 3 check-ins" in s["watermelon"].reason


def test_no_watermelon_when_work_is_not_mostly_done():
    assert "watermelon" not in signals(progress=0.1, initiatives_total=5, initiatives_done=3)
    assert "watermelon" not in signals(progress=0.6, initiatives_total=1, initiatives_done=1, recent_values=[60, 60])


def test_watermelon_when_confident_but_behind():
    s = signals(progress=0.1, expected=0.5, confidence=8)
    assert s["watermelon"].rule == "confident_but_behind"
    assert "confidence_mismatch" not in s  # the stronger flag wins


def test_confidence_mismatch_low_confidence_on_track():
    s = signals(progress=0.6, expected=0.5, confidence=2)
    assert "on_track" in s and "only 2/10" in s["confidence_mismatch"].reason


def test_confidence_mismatch_high_confidence_at_risk():
    s = signals(progress=0.3, expected=0.5, confidence=9)
    assert "at_risk" in s and "confidence_mismatch" in s and "watermelon" not in s


def test_task_in_disguise_activity_verb_with_hint():
    s = signals(title="Launch onboarding v2")
    sig = s["task_in_disguise"]
    assert '"Launch"' in sig.reason
    assert "Increase Day-7 activation from 34% to 52%" in sig.hint


def test_task_in_disguise_other_rules():
    assert "milestone" in signals(kind="milestone", unit="none")["task_in_disguise"].reason
    assert "baseline equals its target" in signals(baseline=5, target=5)["task_in_disguise"].reason
    assert "no unit" in signals(unit="none")["task_in_disguise"].reason
    assert "task_in_disguise" not in signals()
    assert "task_in_disguise" not in signals(kind="maintain", baseline=5, target=5)


def test_stale_after_two_missed_checkin_periods():
    # Check-in slot: Monday 09:00 UTC. Now is Wednesday 13 May; last slot Mon 11 May, the one before Mon 4 May.
    assert "stale" not in signals(last_checkin_at=datetime(2026, 5, 5, 10, tzinfo=UTC))
    s = signals(last_checkin_at=datetime(2026, 5, 3, 10, tzinfo=UTC))
    assert s["stale"].level == "grey" and "2 check-in periods" in s["stale"].reason


def test_stale_falls_back_to_creation_time_and_respects_owner_timezone():
    s = signals(last_checkin_at=None, created_at=datetime(2026, 4, 1, tzinfo=UTC))
    assert "No check-in" in s["stale"].reason
    assert "stale" not in signals(last_checkin_at=None, created_at=NOW - timedelta(days=2))
    # Monday 09:00 in Tokyo is Monday 00:00 UTC: a check-in on Sunday 23:30 UTC (4 May) is before that slot.
    late_sunday = datetime(2026, 5, 3, 23, 30, tzinfo=UTC)
    assert "stale" in signals(last_checkin_at=late_sunday, tz="Asia/Tokyo")
    assert "stale" in signals(last_checkin_at=late_sunday, tz="UTC")
    just_after = datetime(2026, 5, 4, 0, 30, tzinfo=UTC)
    assert "stale" not in signals(last_checkin_at=just_after, tz="Asia/Tokyo")
    assert "stale" in signals(last_checkin_at=just_after, tz="UTC")


def test_primary_status_stale_overrides_pace():
    s = health.kr_signals(**{**_base(), "last_checkin_at": NOW - timedelta(days=30)})
    assert health.primary_status(s).code == "stale"


def _base():
    return {
        "title": "Increase NPS",
        "kind": "increase",
        "unit": "custom",
        "baseline": 0,
        "target": 10,
        "status": "active",
        "has_owner": True,
        "progress": 0.9,
        "expected": 0.5,
        "confidence": None,
        "initiatives_total": 1,
        "initiatives_done": 0,
        "recent_values": [],
        "last_checkin_at": NOW,
        "created_at": NOW,
        "now": NOW,
    }


def test_no_work_behind_an_active_kr():
    assert signals(initiatives_total=0)["no_work"].level == "amber"
    assert "no_work" not in signals(initiatives_total=1)


def test_unowned_kr():
    assert signals(has_owner=False)["unowned"].level == "red"


def test_focus_too_many_initiatives():
    s = signals(initiatives_total=6)
    assert s["focus"].rule == "initiatives_per_kr" and "a backlog, not bets" in s["focus"].reason
    assert "focus" not in signals(initiatives_total=5)


def test_objective_signals_focus_and_unowned():
    common = {"status": "active", "progress": 0.5, "expected": 0.5}
    codes = {s.rule for s in health.objective_signals(has_owner=True, key_results_count=5, **common)}
    assert "key_results_per_objective" in codes
    team = health.objective_signals(
        has_owner=True, key_results_count=3, team_objectives_in_cycle=6, team_name="Growth", **common
    )
    assert any(s.rule == "objectives_per_team" and "Growth has 6" in s.reason for s in team)
    person = health.objective_signals(has_owner=True, key_results_count=3, owner_objectives_in_cycle=6, **common)
    assert any(s.rule == "objectives_per_person" for s in person)
    assert any(s.code == "unowned" for s in health.objective_signals(has_owner=False, key_results_count=1, **common))


def test_initiative_signals():
    today = date(2026, 5, 13)
    codes = {
        s.code
        for s in health.initiative_signals(status="blocked", has_owner=False, due_date=date(2026, 5, 1), today=today)
    }
    assert codes == {"unowned", "blocked", "overdue"}
    assert health.initiative_signals(status="done", has_owner=False, due_date=date(2026, 5, 1), today=today) == []


def test_org_thresholds_override_defaults_and_ignore_junk():
    t = thresholds_for({"on_track": "0.9", "focus_key_results": 3, "at_risk": "lots", "nonsense": 1})
    assert t.on_track == 0.9 and t.focus_key_results == 3
    assert t.at_risk == DEFAULT_THRESHOLDS.at_risk
    assert thresholds_for(None) == DEFAULT_THRESHOLDS
    # progress 0.42 / expected 0.5 = pace 0.84: on track by default, at risk with on_track=0.9.
    assert health.pace_signal(progress=0.42, expected=0.5, t=t).code == "at_risk"
    assert health.pace_signal(progress=0.42, expected=0.5).code == "on_track"
