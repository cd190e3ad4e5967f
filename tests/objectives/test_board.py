"""The cycle board at scale (objectives/board.py): codes-only signal rules agree with the full ones, the lean judge
agrees with the full assembly, groups are bounded and load lazily, and the group endpoint is scoped and validated."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from checkins.models import CheckIn
from objectives import board, health, selectors
from objectives.models import KeyResult, Objective
from tests.factories import MembershipFactory, TeamFactory
from tests.factories_okr import CycleFactory, InitiativeFactory, KeyResultFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
NOW = datetime(2026, 5, 13, 12, 0, tzinfo=UTC)


# --- Codes-only objective rules == full rules ---------------------------------------------------------------------
def test_objective_signal_codes_match_objective_signals_on_random_facts():
    rnd = random.Random(7)
    for _ in range(2000):
        facts = {
            "status": rnd.choice(["draft", "active", "closed", "archived"]),
            "has_owner": rnd.random() < 0.8,
            "progress": rnd.random(),
            "expected": rnd.choice([0.0, 0.5, rnd.random()]),
            "key_results_count": rnd.randint(0, 7),
            "owner_objectives_in_cycle": rnd.randint(0, 8),
            "team_objectives_in_cycle": rnd.randint(0, 8),
        }
        full = health.objective_signals(**facts)
        assert health.objective_signal_codes(**facts) == [s.code for s in full], facts


def test_stale_cutoff_is_the_is_stale_boundary():
    cutoff = health.stale_cutoff(now=NOW, weekday=2, hour=9, tz="Europe/Berlin")
    kwargs = {"now": NOW, "weekday": 2, "hour": 9, "tz": "Europe/Berlin"}
    assert health.is_stale(last_activity=cutoff - timedelta(seconds=1), **kwargs)
    assert not health.is_stale(last_activity=cutoff, **kwargs)


# --- The lean judge == the full assembly --------------------------------------------------------------------------
def _varied_cycle(org, cycle, owners, n=40, seed=3):
    """Objectives with KRs of every kind, initiatives of every status, flat and moving check-ins, stale ones."""
    rnd = random.Random(seed)
    team = TeamFactory(organization=org, name="Growth")
    for i in range(n):
        owner = rnd.choice([*owners, None])
        o = ObjectiveFactory(
            cycle=cycle,
            owner=owner,
            level=rnd.choice(["company", "team", "personal"]),
            team=team if rnd.random() < 0.5 else None,
            status=rnd.choice(["active", "active", "draft"]),
            title=f"Objective {i}",
        )
        for j in range(rnd.randint(0, 5)):
            kind = rnd.choice(["increase", "decrease", "maintain", "milestone"])
            kr_owner = rnd.choice([*owners, None])
            kr = KeyResultFactory(
                objective=o,
                owner=kr_owner,
                title=rnd.choice(["Launch the portal", "Increase NRR", "Reduce p95 latency"]) + f" {i}.{j}",
                kind=kind,
                unit=rnd.choice(["number", "percent", "none"]),
                baseline=rnd.choice([0, 10, 100]),
                target=rnd.choice([0, 50, 100, 200]),
                current=rnd.choice([0, 1, 2.5, 5, 50, 99.6, 150]),
                band_low=rnd.choice([None, 99.5]) if kind == "maintain" else None,
                band_high=rnd.choice([None, 100]) if kind == "maintain" else None,
                milestone_steps=rnd.choice([[], ["a", "b", "c"]]) if kind == "milestone" else [],
                confidence=rnd.choice([None, 2, 5, 8]),
                status="active" if kr_owner else "draft",
                last_checkin_at=timezone.now() - timedelta(days=rnd.choice([0, 20])),
            )
            for _ in range(rnd.randint(0, 7)):
                InitiativeFactory(key_result=kr, status=rnd.choice(["done", "done", "in_progress", "cancelled"]))
            value = rnd.choice([10, 20])
            for k in range(rnd.choice([0, 3])):
                CheckIn.objects.create(
                    organization=org,
                    key_result=kr,
                    author=owners[0],
                    value=value if rnd.random() < 0.7 else value + k,
                    week_start=cycle.start_date,
                )
    return team


def test_judge_agrees_with_the_full_assembly(org, admin, member, cycle):
    _varied_cycle(org, cycle, [admin, member])
    full = {o["pk"]: o for o in selectors.objective_rows(org=org, membership=admin, cycle=cycle)}
    lean = {o["pk"]: o for o in board.judge(org, admin, cycle=cycle).objectives}
    assert set(full) == set(lean) and len(lean) == 40
    for pk, o in full.items():
        assert lean[pk]["codes"] == set(o["signal_codes"]), o["title"]
        assert lean[pk]["progress"] == pytest.approx(o["progress"]), o["title"]
        assert lean[pk]["kr_count"] == o["kr_count"]
    # Every signal filter gives the same objectives as filtering the full assembly.
    for code in health.SIGNAL_CODES:
        expected = {pk for pk, o in full.items() if code in o["signal_codes"]}
        assert {
            o["pk"] for o in board.judge(org, admin, cycle=cycle, filters=board.BoardFilters(signal=code)).objectives
        } == expected, code


# --- Groups, pages and the group endpoint -------------------------------------------------------------------------
def _bulk(cycle, owner, n, *, level="company", team=None, prefix="Company"):
    org = cycle.organization
    objectives = Objective.objects.bulk_create(
        Objective(
            organization=org,
            cycle=cycle,
            title=f"{prefix} objective {i:03d}",
            owner=owner,
            level=level,
            team=team,
            status="active",
            position=i,
        )
        for i in range(n)
    )
    KeyResult.objects.bulk_create(
        KeyResult(organization=org, objective=o, title=f"Grow NRR {o.pk}", owner=owner, target=100, current=10)
        for o in objectives
    )


def _board_url(cycle, name="objectives:cycle_detail"):
    return reverse(name, args=[cycle.organization.slug, cycle.public_id])


def test_a_big_cycle_renders_one_bounded_page_and_collapsed_groups(client_for, admin, cycle):
    org = cycle.organization
    platform = TeamFactory(organization=org, name="Platform")
    _bulk(cycle, admin, board.FIRST_PAGE + 10)
    _bulk(cycle, admin, 30, level="team", team=platform, prefix="Platform")
    data = selectors.cycle_board(org=org, membership=admin, cycle=cycle)
    assert data["summary"]["objectives"] == board.FIRST_PAGE + 40
    company, team = data["groups"]
    assert company["count"] == board.FIRST_PAGE + 10 and team["count"] == 30
    first = company["teams"][0]
    assert first["expanded"] and len(first["objectives"]) == board.FIRST_PAGE and first["more"] == 10
    platform_group = team["teams"][0]
    assert not platform_group["expanded"] and platform_group["objectives"] == []
    assert platform_group["count"] == 30 and platform_group["progress_pct"] == 10
    assert len(data["objectives"]) == board.FIRST_PAGE

    client = client_for(admin)
    body = client.get(_board_url(cycle)).content.decode()
    assert body.count('data-testid="objective-row"') == board.FIRST_PAGE
    assert "Company objective 000" in body and f"Company objective {board.FIRST_PAGE:03d}" not in body
    assert "Platform objective" not in body  # collapsed: loaded on open
    assert f'data-group="team:{platform.public_id}"' in body and 'hx-trigger="toggle once"' in body
    assert 'data-testid="board-more"' in body

    # "Show more" returns the next page of the company group, without a further button.
    group = _board_url(cycle, "objectives:cycle_board_group")
    more = client.get(group, {"group": "company:none", "offset": board.FIRST_PAGE}, **HX)
    assert more.status_code == 200 and b"<html" not in more.content
    rows = more.content.decode()
    assert rows.count('data-testid="objective-row"') == 10 and 'data-testid="board-more"' not in rows
    # Opening the team group loads its first page, with "show more" for the rest.
    opened = client.get(group, {"group": f"team:{platform.public_id}"}, **HX).content.decode()
    assert opened.count('data-testid="objective-row"') == board.PAGE and "Platform objective 000" in opened
    assert f"offset={board.PAGE}" in opened
    # Without JavaScript, ?open=<group> renders that group expanded in the page.
    page = client.get(_board_url(cycle), {"open": f"team:{platform.public_id}"}).content.decode()
    assert "Platform objective 000" in page


def test_group_endpoint_keeps_the_filters_and_privacy(client_for, admin, member, cycle):
    org = cycle.organization
    team = TeamFactory(organization=org, name="Core")
    ObjectiveFactory(cycle=cycle, owner=admin, level="team", team=team, title="Visible one")
    ObjectiveFactory(cycle=cycle, owner=admin, level="team", team=team, title="Admin secret", visibility="private")
    bad = ObjectiveFactory(cycle=cycle, owner=admin, level="team", team=team, title="Has a task KR")
    KeyResultFactory(objective=bad, owner=admin, title="Ship the thing", kind="milestone")
    group = _board_url(cycle, "objectives:cycle_board_group")
    key = f"team:{team.public_id}"
    body = client_for(member).get(group, {"group": key}, **HX).content.decode()
    assert "Visible one" in body and "Has a task KR" in body and "Admin secret" not in body
    body = client_for(member).get(group, {"group": key, "signal": "task_in_disguise"}, **HX).content.decode()
    assert "Has a task KR" in body and "Visible one" not in body
    # The page links its groups with the active filters.
    page = client_for(member).get(_board_url(cycle), {"signal": "task_in_disguise"}).content.decode()
    assert "Has a task KR" in page and "Visible one" not in page


def test_group_endpoint_rejects_bad_input_and_other_orgs(client_for, member, outsider, cycle):
    group = _board_url(cycle, "objectives:cycle_board_group")
    client = client_for(member)
    assert client.get(group, {"group": "company:none", "offset": "x"}).status_code == 400
    assert client.get(group, {"group": "company:none", "offset": "-1"}).status_code == 400
    assert client.get(group, {"group": "nonsense"}).status_code == 404
    assert client.get(group, {"group": "team:not-a-uuid"}).status_code == 404
    foreign_team = TeamFactory(organization=outsider.organization)
    assert client.get(group, {"group": f"team:{foreign_team.public_id}"}).status_code == 404
    foreign_cycle = CycleFactory(organization=outsider.organization)
    assert client.get(_board_url(foreign_cycle, "objectives:cycle_board_group")).status_code == 404
    assert client_for(outsider).get(group, {"group": "company:none"}).status_code == 404


def test_board_and_group_pages_use_a_constant_number_of_queries(client_for, admin, cycle):
    team = TeamFactory(organization=cycle.organization, name="Ops")
    client = client_for(admin)
    group = _board_url(cycle, "objectives:cycle_board_group")
    _bulk(cycle, admin, 5)
    _bulk(cycle, admin, 5, level="team", team=team, prefix="Ops")
    client.get(_board_url(cycle))  # warm up session and caches

    def count(path, params=None):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path, params or {}).status_code == 200
        return len(ctx.captured_queries)

    small = count(_board_url(cycle)), count(group, {"group": f"team:{team.public_id}"})
    _bulk(cycle, admin, 120, prefix="More")
    _bulk(cycle, admin, 120, level="team", team=team, prefix="More ops")
    member = MembershipFactory(organization=cycle.organization)
    _bulk(cycle, member, 60, level="personal", prefix="Mine")
    assert (count(_board_url(cycle)), count(group, {"group": f"team:{team.public_id}"})) == small


# --- The objective page's alignment pickers load on demand --------------------------------------------------------
def test_alignment_pickers_load_when_opened(client_for, admin, member, viewer, cycle):
    company = ObjectiveFactory(cycle=cycle, owner=admin, title="Company goal")
    KeyResultFactory(objective=company, owner=admin, title="Grow revenue")
    mine = ObjectiveFactory(cycle=cycle, owner=member, title="Team goal", level="team")
    page_url = reverse("objectives:objective_detail", args=[cycle.organization.slug, mine.public_id])
    form_url = reverse("objectives:objective_alignment_form", args=[cycle.organization.slug, mine.public_id])
    page = client_for(member).get(page_url).content.decode()
    assert 'hx-trigger="toggle once"' in page and "Grow revenue" not in page  # not rendered up front
    picker = client_for(member).get(form_url, {"form": "align"}, **HX).content.decode()
    assert "<html" not in picker and "Grow revenue" in picker and 'name="parent"' in picker
    contribution = client_for(member).get(form_url, {"form": "contribution"}, **HX).content.decode()
    assert "Grow revenue" in contribution and 'name="key_result"' in contribution
    # Without JavaScript the page renders them itself; bad input and other people's objectives are refused.
    assert "Grow revenue" in client_for(member).get(page_url, {"edit": "alignment"}).content.decode()
    assert client_for(member).get(form_url, {"form": "nope"}).status_code == 404
    assert client_for(viewer).get(form_url, {"form": "align"}).status_code == 403
