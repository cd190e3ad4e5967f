"""Bench data: one organization with 5,000 objectives, 15,000 key results and 20,000 initiatives (bulk_create).

    DEBUG=true DATABASE_URL=postgres://…/okrapp_bench REDIS_URL=redis://127.0.0.1:6379/N \
        .venv/bin/python bench/generate.py [--objectives 5000] [--slug bench]

Replaces the org with that slug (and its bench users) if it exists. Shape: 100 members in 20 teams, a year cycle
with four quarters (the one covering today is active), objectives spread over the year and the quarters
(5% company, 60% team, 35% personal; 90% visible to all, 5% team-only, 5% private), 3 KRs each of every kind,
initiatives spread over the KRs, one check-in per KR. Prints the org slug, the active cycle id and an API token
(also written to bench/.bench.json for run.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "okrapp.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Membership, Organization, Role, Team, TeamMember, User  # noqa: E402
from accounts.services import api_token_create  # noqa: E402
from checkins.models import CheckIn  # noqa: E402
from initiatives.models import Initiative  # noqa: E402
from objectives.models import Cycle, KeyResult, Objective  # noqa: E402

STATE_FILE = ROOT / "bench" / ".bench.json"
KR_TITLES = [
    ("Increase weekly active teams", "increase", "number", 120, 200),
    ("Reduce p95 API latency", "decrease", "custom", 450, 250),
    ("Keep uptime", "maintain", "percent", 99.9, 99.9),
    ("Launch the partner portal", "milestone", "none", 0, 1),
    ("Grow NRR", "increase", "percent", 98, 110),
]


def quarters(year: int) -> list[tuple[str, date, date]]:
    bounds = [(1, 3, 31), (4, 6, 30), (7, 9, 30), (10, 12, 31)]
    return [(f"Q{i + 1} {year}", date(year, m, 1), date(year, m2, d)) for i, (m, m2, d) in enumerate(bounds)]


@transaction.atomic
def generate(*, slug: str, n_objectives: int, seed: int = 7) -> dict:
    rnd = random.Random(seed)
    old = Organization.objects.filter(slug=slug).first()
    if old is not None:
        # Objectives protect their cycle and quarters their year: delete from the leaves up, then the org.
        Objective.objects.filter(organization=old).delete()
        Cycle.objects.filter(organization=old, parent__isnull=False).delete()
        Cycle.objects.filter(organization=old).delete()
        old.delete()
    User.objects.filter(email__endswith=f"@{slug}.bench").delete()
    org = Organization.objects.create(name=f"Bench {slug}", slug=slug)
    password = make_password("bench-password-1")
    users = User.objects.bulk_create(
        [User(email=f"user{i}@{slug}.bench", name=f"Bench User {i}", password=password) for i in range(100)]
    )
    members = Membership.objects.bulk_create(
        [Membership(organization=org, user=u, role=Role.OWNER if i == 0 else Role.MEMBER) for i, u in enumerate(users)]
    )
    teams = Team.objects.bulk_create([Team(organization=org, name=f"Team {i}") for i in range(20)])
    TeamMember.objects.bulk_create(
        [TeamMember(organization=org, team=teams[i % 20], membership=m) for i, m in enumerate(members)]
    )
    today = timezone.now().date()
    year = Cycle.objects.create(
        organization=org,
        name=f"FY {today.year}",
        kind=Cycle.Kind.YEAR,
        status=Cycle.Status.ACTIVE,
        start_date=date(today.year, 1, 1),
        end_date=date(today.year, 12, 31),
    )
    cycles = [year]
    for name, start, end in quarters(today.year):
        status = Cycle.Status.ACTIVE if start <= today <= end else Cycle.Status.PLANNING
        cycles.append(
            Cycle.objects.create(
                organization=org, name=name, kind="quarter", status=status, start_date=start, end_date=end, parent=year
            )
        )
    active = next(c for c in cycles[1:] if c.status == Cycle.Status.ACTIVE)

    objectives = []
    for i in range(n_objectives):
        level = rnd.choices(["company", "team", "personal"], weights=[5, 60, 35])[0]
        visibility = rnd.choices(["organization", "team", "private"], weights=[90, 5, 5])[0]
        team = rnd.choice(teams) if level == "team" or visibility == "team" else None
        cycle = year if i % 20 == 0 else cycles[1 + i % 4]
        objectives.append(
            Objective(
                organization=org,
                cycle=cycle,
                title=f"Objective {i}: make onboarding effortless",
                level=level,
                team=team,
                owner=rnd.choice(members),
                status="active",
                visibility=visibility,
                position=i,
            )
        )
    objectives = Objective.objects.bulk_create(objectives, batch_size=2000)

    krs = []
    for o in objectives:
        for j in range(3):
            title, kind, unit, baseline, target = KR_TITLES[(o.position + j) % len(KR_TITLES)]
            current = Decimal(str(baseline)) + (Decimal(str(target)) - Decimal(str(baseline))) * Decimal(
                str(round(rnd.random(), 2))
            )
            krs.append(
                KeyResult(
                    organization=org,
                    objective=o,
                    title=title,
                    kind=kind,
                    unit=unit,
                    baseline=baseline,
                    target=target,
                    current=1 if kind == "milestone" and rnd.random() < 0.3 else current,
                    band_low=Decimal("99.5") if kind == "maintain" else None,
                    owner=rnd.choice(members),
                    status="active",
                    confidence=rnd.randint(3, 9),
                    position=j,
                    last_checkin_at=timezone.now() - timedelta(days=rnd.randint(0, 30)),
                )
            )
    krs = KeyResult.objects.bulk_create(krs, batch_size=5000)
    n_initiatives = n_objectives * 4
    statuses = ["not_started", "in_progress", "in_progress", "blocked", "done", "done", "cancelled"]
    Initiative.objects.bulk_create(
        [
            Initiative(
                organization=org,
                key_result=krs[i % len(krs)] if i < len(krs) else rnd.choice(krs),
                title=f"Initiative {i}",
                hypothesis="Should move the number because people told us so.",
                owner=rnd.choice(members),
                status=rnd.choice(statuses),
                progress=rnd.randint(0, 100),
                position=i,
            )
            for i in range(n_initiatives)
        ],
        batch_size=5000,
    )
    week = today - timedelta(days=today.weekday())
    CheckIn.objects.bulk_create(
        [
            CheckIn(organization=org, key_result=kr, author=kr.owner, value=kr.current, confidence=7, week_start=week)
            for kr in krs
        ],
        batch_size=5000,
    )
    owner = members[0]
    _, secret = api_token_create(actor=owner, name="bench")
    return {
        "slug": slug,
        "cycle": str(active.public_id),
        "cycle_objectives": sum(1 for o in objectives if o.cycle_id == active.pk),
        "token": secret,
        "owner_email": users[0].email,
        "objectives": len(objectives),
        "key_results": len(krs),
        "initiatives": n_initiatives,
    }


def generate_and_save(*, slug: str = "bench", n_objectives: int = 5000) -> dict:
    """Generate, refresh the planner's statistics and write the state file bench/run.py reads."""
    started = time.perf_counter()
    state = generate(slug=slug, n_objectives=n_objectives)
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:  # fresh planner statistics, as autovacuum would give a real database
        cursor.execute("ANALYZE")
    STATE_FILE.write_text(json.dumps(state, indent=2))
    print(
        f"org {state['slug']}: {state['objectives']} objectives, {state['key_results']} KRs, "
        f"{state['initiatives']} initiatives in {elapsed:.1f}s; active cycle {state['cycle']} "
        f"({state['cycle_objectives']} objectives); state in {STATE_FILE.relative_to(ROOT)}",
        flush=True,
    )
    return state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objectives", type=int, default=5000)
    parser.add_argument("--slug", default="bench")
    args = parser.parse_args()
    from bench.state import migrate

    migrate()
    generate_and_save(slug=args.slug, n_objectives=args.objectives)


if __name__ == "__main__":
    main()
