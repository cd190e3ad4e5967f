"""The hot list endpoints (objectives/api/lists.py): the output of the assembled path (assembly + serializers) for
every role, filter and cursor page; signals worded exactly as objectives.health words them; one query per page."""

import json
import random
from datetime import UTC, datetime, timedelta

import orjson
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role, TeamMember
from checkins.models import CheckIn
from objectives import assembly, health, selectors
from objectives.api import serializers as s
from objectives.api.fast_signals import PageSignals
from objectives.models import KeyResult, Objective
from tests.factories import MembershipFactory, TeamFactory
from tests.factories_okr import CycleFactory, InitiativeFactory, KeyResultFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 13, 12, 0, tzinfo=UTC)


def url(org, path):
    return f"/api/v1/o/{org.slug}/{path}"


# --- Signals worded like health -----------------------------------------------------------------------------------
def _thresholds(rnd: random.Random) -> health.Thresholds:
    if rnd.random() < 0.7:
        return health.DEFAULT_THRESHOLDS
    return health.thresholds_for(
        {"on_track": 0.9, "at_risk": 0.4, "stale_periods": 3, "focus_initiatives": 2, "watermelon_done_share": 0.5}
    )


def test_key_result_signals_match_health_on_random_facts():
    rnd = random.Random(20260513)
    judges: dict = {}  # one per thresholds for the whole run, so that its memos are exercised
    titles = ["Launch the portal", "ship v2", "Increase NRR", "Reduce churn", "", "42 things", "Hire 3 engineers"]
    for _ in range(4000):
        t = _thresholds(rnd)
        kind = rnd.choice(["increase", "decrease", "maintain", "milestone"])
        baseline = rnd.choice([0, 10.0, 50, 100, None])
        total = rnd.choice([0, 1, 2, 5, 6, 10])
        facts = {
            "title": rnd.choice(titles),
            "kind": kind,
            "unit": rnd.choice(["number", "percent", "none", "currency"]),
            "baseline": baseline,
            "target": rnd.choice([baseline, 0, 100.0, 200, None]),
            "status": rnd.choice(["draft", "active", "active", "closed"]),
            "has_owner": rnd.random() < 0.8,
            "progress": rnd.choice([0.0, 0.1, 0.29, 0.3, 0.5, 0.79, 0.8, 1.0, rnd.random()]),
            "expected": rnd.choice([0.0, 0.04, 0.05, 0.5, 1.0, rnd.random()]),
            "confidence": rnd.choice([None, 0, 3, 4, 5, 7, 10]),
            "initiatives_total": total,
            "initiatives_done": rnd.randint(0, total),
        }
        flat = rnd.random() < 0.3
        last_checkin_at = rnd.choice([None, NOW - timedelta(days=rnd.choice([0, 3, 8, 13, 15, 30, 400]))])
        created_at = NOW - timedelta(days=rnd.choice([1, 20, 90]))
        cutoff = health.stale_cutoff(now=NOW, weekday=rnd.randint(0, 6), hour=rnd.randint(0, 23), tz="UTC", t=t)
        full = health.kr_signals(
            **facts,
            recent_values=[5, 5.0, 5] if flat else rnd.choice([[], [1, 2, 3], [5, 5]]),
            last_checkin_at=last_checkin_at,
            created_at=created_at,
            now=NOW,
            t=t,
            stale_cutoff=cutoff,
        )
        last_activity = last_checkin_at or created_at
        judge = judges.setdefault(t, PageSignals(t))
        fast, primary = judge(**facts, flat=flat, last_checkin_at=last_checkin_at, stale=last_activity < cutoff)
        assert fast == [s.signal_out(x) for x in full], facts
        expected_primary = health.primary_status(full)
        assert primary == (s.signal_out(expected_primary) if expected_primary else None), facts


def test_objective_signals_match_health_on_random_facts():
    rnd = random.Random(7)
    judges: dict = {}
    for _ in range(3000):
        t = _thresholds(rnd)
        facts = {
            "status": rnd.choice(["draft", "active", "closed", "archived"]),
            "has_owner": rnd.random() < 0.8,
            "progress": rnd.random(),
            "expected": rnd.choice([0.0, 0.5, rnd.random()]),
            "key_results_count": rnd.randint(0, 7),
            "owner_objectives_in_cycle": rnd.randint(0, 8),
            "team_objectives_in_cycle": rnd.randint(0, 8),
            "team_name": rnd.choice(["", "Growth"]),
        }
        full = health.objective_signals(**facts, t=t)
        fast, primary = judges.setdefault(t, PageSignals(t)).objective(**facts)
        assert fast == [s.signal_out(x) for x in full], facts
        expected_primary = health.primary_status(full)
        assert primary == (s.signal_out(expected_primary) if expected_primary else None), facts


# --- The lists == the assembled path ------------------------------------------------------------------------------
@pytest.fixture
def varied(org, admin, member, viewer):
    """Objectives of every level, status and visibility (team-only ones of a team `member` is in, and of one they
    are not in), aligned to objectives and KRs, with KRs of every kind, unit and status, initiatives of every
    status, flat and moving check-ins, owners in other time zones and check-in slots, stale and fresh KRs."""
    rnd = random.Random(11)
    other = MembershipFactory(organization=org, role=Role.MEMBER, timezone="America/New_York", checkin_weekday=4)
    late = MembershipFactory(organization=org, role=Role.MEMBER, timezone="Asia/Tokyo", checkin_hour=17)
    owners = [admin, member, other, late]
    growth, ops = TeamFactory(organization=org, name="Growth"), TeamFactory(organization=org, name="Ops")
    TeamMember.objects.create(organization=org, team=growth, membership=member)
    quarter = CycleFactory(organization=org, name="Q2", start_date=NOW.date() - timedelta(days=40))
    year = CycleFactory(
        organization=org,
        name="2026",
        kind="year",
        start_date=NOW.date() - timedelta(days=130),
        end_date=NOW.date() + timedelta(days=230),
    )
    objectives, krs = [], []
    for i in range(34):
        team = rnd.choice([growth, ops, None])
        parent_objective = parent_kr = None
        if objectives and rnd.random() < 0.3:
            parent_objective = rnd.choice(objectives)
        elif krs and rnd.random() < 0.3:
            parent_kr = rnd.choice(krs)
        o = ObjectiveFactory(
            cycle=rnd.choice([quarter, quarter, year]),
            owner=rnd.choice([*owners, None]) if i else member,
            team=team,
            level="team" if team else rnd.choice(["company", "personal"]),
            status=rnd.choice(["active", "active", "draft", "closed", "archived"]),
            visibility=rnd.choice(["organization", "organization", "team", "private"]) if team else "organization",
            title=f"Objective {i}",
            description=rnd.choice(["", "Why it matters"]),
            parent_objective=parent_objective,
            parent_key_result=parent_kr,
        )
        objectives.append(o)
        for j in range(rnd.choice([0, 1, 2, 3, 5, 6])):
            kind = rnd.choice(["increase", "decrease", "maintain", "milestone"])
            owner = rnd.choice([*owners, None])
            unit = rnd.choice(["number", "percent", "none", "currency", "custom"])
            kr = KeyResultFactory(
                objective=o,
                owner=owner,
                title=rnd.choice(["Launch the portal", "Increase NRR", "Reduce p95 latency", "Hire 2 SREs"]),
                description=rnd.choice(["", "Measured weekly"]),
                kind=kind,
                unit=unit,
                unit_label={"currency": rnd.choice(["EUR", "CHF", "xyz"]), "custom": "NPS"}.get(unit, ""),
                decimals=rnd.choice([0, 0, 1, 2]),
                baseline=rnd.choice([0, 10, 100, -5.5]),
                target=rnd.choice([0, 50, 100, 200, 1234567.891]),
                current=rnd.choice([0, 1, 2.5, 5, 50, 99.6, 150, -0.0001]),
                band_low=rnd.choice([None, 99.5, 0]) if kind == "maintain" else None,
                band_high=rnd.choice([None, 100]) if kind == "maintain" else None,
                milestone_steps=rnd.choice([[], ["a", "b", "c"]]) if kind == "milestone" else [],
                weight=rnd.choice([1, 2, 0.5]),
                confidence=rnd.choice([None, 2, 5, 8]),
                score=rnd.choice([None, 0.7]),
                status=rnd.choice(["active", "active", "draft", "closed"])
                if owner
                else rnd.choice(["draft", "closed"]),
                last_checkin_at=rnd.choice([None, NOW - timedelta(days=rnd.choice([0, 6, 20]))]),
                position=rnd.choice([0, j]),
            )
            krs.append(kr)
            for _ in range(rnd.choice([0, 0, 1, 3, 6, 7])):
                InitiativeFactory(key_result=kr, status=rnd.choice(["done", "done", "in_progress", "cancelled"]))
            values = rnd.choice([[], [10, 10, 10], [10, 20, 10], [10, 10], [7, 7, 7, 3]])
            for k, value in enumerate(values):
                CheckIn.objects.create(
                    organization=org,
                    key_result=kr,
                    author=rnd.choice([owner, admin, None]),
                    value=value,
                    confidence=5,
                    comment="",
                    week_start=NOW.date() - timedelta(days=7 * k),
                )
    # Watermelons by both rules: work done and the number flat over 3 check-ins (progress fine), or low progress.
    flat_o = ObjectiveFactory(cycle=quarter, owner=member, title="Watermelons")
    for current, values in ((50, [10, 10, 10]), (10, [10, 20, 30]), (60, [10, 20, 20, 20])):
        kr = KeyResultFactory(objective=flat_o, owner=member, baseline=0, target=100, current=current)
        for status in ("done", "done", "cancelled"):
            InitiativeFactory(key_result=kr, status=status)
        for value in values:
            CheckIn.objects.create(organization=org, key_result=kr, author=member, value=value, week_start=NOW.date())
        krs.append(kr)
    objectives.append(flat_o)
    # Distinct creation times, so that both sides order the pages the same way.
    for n, o in enumerate(objectives):
        Objective.objects.filter(pk=o.pk).update(created_at=NOW - timedelta(hours=n))
    for n, kr in enumerate(krs):
        KeyResult.objects.filter(pk=kr.pk).update(created_at=NOW - timedelta(days=30, hours=n))
    return {"quarter": quarter, "growth": growth, "other": other}


def _assembled_objectives(org, membership, **filters) -> list[dict]:
    visible = selectors.visible_objectives(org, membership)
    qs = selectors._filter_objectives(visible, **filters).order_by("-created_at")
    rows = list(assembly.objective_values(org, qs, visible))
    return [s.objective_out(o) for o in assembly.assemble_objectives(org, rows, visible)]


def _assembled_key_results(org, membership, **filters) -> list[dict]:
    qs = selectors.visible_key_results(org, membership).filter(**filters).order_by("-created_at")
    rows = list(qs.values(*assembly.KEY_RESULT_VALUES))
    return [s.key_result_out(kr) for kr in assembly.assemble_key_results(org, rows)]


def _walk(api, first: str, params: dict) -> list[dict]:
    """Every result of a cursor-paginated list, following `next`; checks `previous` leads back to the same page."""
    results, response = [], api.get(first, params)
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        results.extend(body["results"])
        if body["previous"]:
            back = api.get(body["previous"]).json()
            assert back["next"] is not None
            assert api.get(back["next"]).json()["results"] == body["results"]
        if not body["next"]:
            return results
        response = api.get(body["next"])


def _json(items: list[dict]) -> list[dict]:
    return json.loads(orjson.dumps(items))


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("role", ["admin", "member", "viewer"])
def test_objectives_list_equals_assembled_output(org, admin, member, viewer, varied, api_client_for, role):
    me = {"admin": admin, "member": member, "viewer": viewer}[role]
    api = api_client_for(me)
    cases = [
        ({}, {}),
        ({"cycle": str(varied["quarter"].public_id)}, {"cycle": varied["quarter"]}),
        ({"team": str(varied["growth"].public_id)}, {"team": varied["growth"]}),
        ({"owner": str(varied["other"].public_id)}, {"owner": varied["other"]}),
        ({"status": "archived"}, {"status": "archived"}),
        ({"status": "closed"}, {"status": "closed"}),
    ]
    for params, filters in cases:
        got = _walk(api, url(org, "objectives"), {**params, "page_size": 7})
        expected = _json(_assembled_objectives(org, me, **filters))
        assert got == expected, params
    everything = _json(_assembled_objectives(org, me))
    assert everything and any(o["signals"] for o in everything)
    assert {kr["kind"] for o in everything for kr in o["key_results"]} == {
        "increase",
        "decrease",
        "maintain",
        "milestone",
    }
    for code in ("watermelon", "stale", "focus", "task_in_disguise"):
        got = _walk(api, url(org, "objectives"), {"signal": code, "page_size": 7})
        assert got == [o for o in everything if code in {x["code"] for x in o["signals"]} | set(o["kr_signal_codes"])]
        assert got, code


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("role", ["admin", "member", "viewer"])
def test_key_results_list_equals_assembled_output(org, admin, member, viewer, varied, api_client_for, role):
    me = {"admin": admin, "member": member, "viewer": viewer}[role]
    api = api_client_for(me)
    cases = [
        ({}, {}),
        ({"cycle": str(varied["quarter"].public_id)}, {"objective__cycle": varied["quarter"]}),
        ({"owner": str(varied["other"].public_id)}, {"owner": varied["other"]}),
        ({"status": "draft"}, {"status": "draft"}),
    ]
    for params, filters in cases:
        got = _walk(api, url(org, "key-results"), {**params, "page_size": 9})
        assert got == _json(_assembled_key_results(org, me, **filters)), params
    everything = _json(_assembled_key_results(org, me))
    got = _walk(api, url(org, "key-results"), {"signal": "watermelon", "page_size": 9})
    assert got and got == [kr for kr in everything if "watermelon" in {x["code"] for x in kr["signals"]}]


@pytest.mark.parametrize(
    ("path", "n"), [("objectives", 3), ("objectives", 60), ("key-results", 3), ("key-results", 60)]
)
def test_a_list_page_is_one_query(org, member, api_client_for, path, n):
    cycle = CycleFactory(organization=org)
    for _ in range(n):
        kr = KeyResultFactory(objective=ObjectiveFactory(cycle=cycle, owner=member), owner=member)
        InitiativeFactory(key_result=kr)
    api = api_client_for(member)
    api.get(url(org, "me"))  # the token's first use stamps last_used_at

    def count(path):
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(url(org, path), {"page_size": 200}).status_code == 200
        return len(ctx.captured_queries)

    # Whatever the page size: the trivial view's queries (token, transaction) + the page.
    assert count(path) == count("me") + 1
