"""Demo OKRs for `manage.py seed_demo`: every KR kind and every health signal has something to show.

Idempotent: cycles, objectives, KRs and initiatives are keyed on their names; check-ins are only written for a KR
that has none yet. Values are placed relative to today's position in the cycle, so the on-track / at-risk /
off-track mix looks the same whatever day the demo is loaded.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Organization, Team
from checkins.models import CheckIn
from initiatives.models import Initiative
from objectives.models import Contribution, Cycle, KeyResult, Objective

D = Decimal
S = Initiative.Status
K = KeyResult.Kind
U = KeyResult.Unit

DANA, LENA, MAX, PIA, OMAR = (f"{n}@okrapp.local" for n in ("demo", "lena", "max", "pia", "omar"))


@dataclass
class KR:
    title: str
    owner: str | None
    kind: str = K.INCREASE
    unit: str = U.NUMBER
    unit_label: str = ""
    decimals: int = 0
    baseline: Decimal = D(0)
    target: Decimal = D(0)
    band: tuple[Decimal | None, Decimal | None] = (None, None)
    steps: list[str] = field(default_factory=list)
    # pace = progress ÷ expected progress today; None: the final value is given directly in `final`.
    pace: float | None = 1.0
    final: Decimal | None = None
    confidence: int = 7
    weeks_silent: int = 0  # check-ins stop this many weeks ago (stale)
    checkins: bool = True
    # (title, status, progress[, due in days from today]); default due dates spread over the cycle's last weeks
    initiatives: list[tuple] = field(default_factory=list)


@dataclass
class Obj:
    key: str
    title: str
    level: str
    owner: str
    team: str | None = None
    status: str = Objective.Status.ACTIVE
    description: str = ""
    parent_kr: str | None = None  # title of a KR seeded earlier
    parent_objective: str | None = None  # key of an objective seeded earlier
    contributes_to: list[tuple[str, Decimal]] = field(default_factory=list)
    krs: list[KR] = field(default_factory=list)


COMPANY_Q = [
    Obj(
        "onboarding",
        "Make onboarding effortless for new teams",
        Objective.Level.COMPANY,
        DANA,
        description="New customers should reach their first useful OKR review in their first week.",
        krs=[
            KR(
                "Increase Day-7 activation from 34% to 52%",
                LENA,
                unit=U.PERCENT,
                baseline=D(34),
                target=D(52),
                pace=1.05,
                confidence=8,
                initiatives=[
                    ("Guided setup checklist", S.IN_PROGRESS, 60),
                    ("Template gallery for first OKRs", S.DONE, 100),
                ],
            ),
            KR(
                "Reduce time to first OKR from 3 days to 1 day",
                MAX,
                kind=K.DECREASE,
                unit=U.CUSTOM,
                unit_label="days",
                decimals=1,
                baseline=D(3),
                target=D(1),
                pace=0.65,
                confidence=6,
                initiatives=[("Import OKRs from a spreadsheet", S.IN_PROGRESS, 40)],
            ),
            KR(
                "Launch the in-app setup guide",
                LENA,
                kind=K.MILESTONE,
                unit=U.NONE,
                baseline=D(0),
                target=D(1),
                pace=None,
                final=D(0),
                confidence=5,
                initiatives=[("Write the guide content", S.IN_PROGRESS, 70)],
            ),
        ],
    ),
    Obj(
        "reliable",
        "Delight customers with a product that just works",
        Objective.Level.COMPANY,
        DANA,
        krs=[
            KR(
                "Keep p95 API latency between 80 and 250 ms",
                OMAR,
                kind=K.MAINTAIN,
                unit=U.CUSTOM,
                unit_label="ms",
                band=(D(80), D(250)),
                baseline=D(190),
                pace=None,
                final=D(182),
                confidence=8,
                initiatives=[("Cache the alignment map", S.DONE, 100)],
            ),
            KR(
                # Watermelon: the work is almost all done, the number barely moved, and the owner still feels great.
                "Reduce weekly support tickets from 120 to 60",
                OMAR,
                kind=K.DECREASE,
                baseline=D(120),
                target=D(60),
                pace=0.2,
                confidence=8,
                initiatives=[
                    ("Rewrite the billing FAQ", S.DONE, 100),
                    ("In-app answers for the top 10 questions", S.DONE, 100),
                    ("Fix CSV export encoding", S.DONE, 100),
                    ("Self-serve password reset for SSO users", S.DONE, 100),
                    ("Status page subscriptions", S.IN_PROGRESS, 50),
                ],
            ),
            KR(
                # Stale: the owner stopped checking in three weeks ago.
                "Raise NPS from 31 to 45",
                PIA,
                unit=U.CUSTOM,
                unit_label="NPS",
                baseline=D(31),
                target=D(45),
                pace=0.7,
                confidence=6,
                weeks_silent=3,
                initiatives=[("Close the loop with every detractor", S.IN_PROGRESS, 30)],
            ),
        ],
    ),
    Obj(
        "growth",
        "Build a sustainable growth engine",
        Objective.Level.COMPANY,
        DANA,
        krs=[
            KR(
                # Off track, and six initiatives in every status: a backlog, not bets (focus).
                "Grow qualified trials from 200 to 400 per month",
                MAX,
                baseline=D(200),
                target=D(400),
                pace=0.3,
                confidence=5,
                initiatives=[
                    ("Comparison pages for the top 3 competitors", S.DONE, 100),
                    ("Partner webinar series", S.IN_PROGRESS, 45),
                    ("Free OKR template download", S.IN_PROGRESS, 20),
                    ("Paid search pilot", S.BLOCKED, 10),
                    ("Product Hunt relaunch", S.NOT_STARTED, 0),
                    ("Podcast sponsorships", S.CANCELLED, 0),
                    ("Trial nurture email sequence", S.IN_PROGRESS, 30, -5),  # overdue
                ],
            ),
            KR(
                # On pace, yet the owner's confidence is low (mismatch), and nothing is planned (no work behind it).
                "Increase expansion revenue from €40k to €90k",
                LENA,
                unit=U.CURRENCY,
                unit_label="EUR",
                baseline=D(40000),
                target=D(90000),
                pace=1.0,
                confidence=3,
            ),
        ],
    ),
]

TEAM_Q = [
    Obj(
        "growth-team",
        "Turn sign-ups into active teams",
        Objective.Level.TEAM,
        LENA,
        team="Growth",
        parent_kr="Increase Day-7 activation from 34% to 52%",
        contributes_to=[("Grow qualified trials from 200 to 400 per month", D("0.5"))],
        krs=[
            KR(
                "Increase invite acceptance from 40% to 65%",
                MAX,
                unit=U.PERCENT,
                baseline=D(40),
                target=D(65),
                pace=0.9,
                confidence=7,
                initiatives=[("Invite reminder emails", S.DONE, 100), ("Invite from Slack", S.IN_PROGRESS, 50)],
            ),
            KR(
                "Ship onboarding v2",
                MAX,
                kind=K.MILESTONE,
                unit=U.NONE,
                steps=["Design approved", "Beta with 5 customers", "General availability", "Docs and video"],
                pace=None,
                final=D(2),
                confidence=6,
                initiatives=[("Onboarding v2 beta programme", S.IN_PROGRESS, 65)],
            ),
        ],
    ),
    Obj(
        "platform-team",
        "Make the platform boringly reliable",
        Objective.Level.TEAM,
        PIA,
        team="Platform",
        parent_kr="Keep p95 API latency between 80 and 250 ms",
        krs=[
            KR(
                "Reduce incidents from 8 to 2 per month",
                OMAR,
                kind=K.DECREASE,
                baseline=D(8),
                target=D(2),
                pace=0.6,
                confidence=5,
                initiatives=[("Runbooks for the top 5 alerts", S.IN_PROGRESS, 50)],
            ),
            KR(
                "Keep error-budget burn at or below 100%",
                PIA,
                kind=K.MAINTAIN,
                unit=U.PERCENT,
                band=(None, D(100)),
                baseline=D(90),
                pace=None,
                final=D(112),
                confidence=4,
                initiatives=[("Canary deploys", S.NOT_STARTED, 0)],
            ),
        ],
    ),
    Obj(
        "max-personal",
        "Become our activation expert",
        Objective.Level.PERSONAL,
        MAX,
        team="Growth",
        parent_objective="growth-team",
        krs=[
            KR(
                "Interview 10 new customers about their first week",
                MAX,
                unit=U.NUMBER,
                baseline=D(0),
                target=D(10),
                pace=1.1,
                confidence=9,
                initiatives=[("Book interviews through the CS team", S.IN_PROGRESS, 60)],
            ),
        ],
    ),
    Obj(
        # Draft with an unowned KR: cannot be published until somebody owns it.
        "enterprise",
        "Win our first enterprise customers",
        Objective.Level.TEAM,
        LENA,
        team="Growth",
        status=Objective.Status.DRAFT,
        krs=[
            KR(
                "Sign 5 enterprise design partners",
                None,
                baseline=D(0),
                target=D(5),
                checkins=False,
            ),
        ],
    ),
]

YEAR = [
    Obj(
        "year",
        "Become the default OKR tool for mid-size software teams",
        Objective.Level.COMPANY,
        DANA,
        krs=[
            KR(
                "Grow ARR from €1.2M to €3M",
                DANA,
                unit=U.CURRENCY,
                unit_label="EUR",
                baseline=D(1_200_000),
                target=D(3_000_000),
                pace=0.9,
                confidence=7,
                initiatives=[("Annual plans with a discount", S.DONE, 100)],
            ),
        ],
    ),
]


HYPOTHESES = {
    "Guided setup checklist": "Teams that finish setup in one sitting come back on day 7; a checklist shows the path.",
    "Template gallery for first OKRs": "A blank page stalls new teams; good examples cut the time to a first draft.",
    "Import OKRs from a spreadsheet": "Most teams arrive with OKRs in a sheet; importing them saves a day of retyping.",
    "Rewrite the billing FAQ": "A third of tickets ask billing questions the FAQ answers badly.",
    "In-app answers for the top 10 questions": "Answering where the question arises should deflect tickets.",
    "Comparison pages for the top 3 competitors": "Buyers search for comparisons; ranking there brings trials.",
    "Partner webinar series": "Partners' audiences are mid-size software teams, exactly our buyers.",
    "Paid search pilot": "High-intent keywords convert to trials at 4% in our benchmarks.",
    "Invite reminder emails": "Half of the invitations are never opened; a reminder after 2 days recovers some.",
    "Runbooks for the top 5 alerts": "Most incidents repeat; a runbook halves the time to mitigate.",
    "Canary deploys": "Catching bad releases on 5% of traffic keeps the error budget intact.",
}


def _quarter_bounds(today: dt.date) -> tuple[dt.date, dt.date, int]:
    q = (today.month - 1) // 3
    start = dt.date(today.year, 3 * q + 1, 1)
    end = dt.date(today.year + (q == 3), (3 * q + 3) % 12 + 1, 1) - dt.timedelta(days=1)
    return start, end, q + 1


def _elapsed(cycle: Cycle, today: dt.date) -> float:
    total = (cycle.end_date - cycle.start_date).days or 1
    return min(max((today - cycle.start_date).days / total, 0.05), 1.0)


@transaction.atomic
def seed_demo_okrs(*, org: Organization, people: dict[str, Membership], teams: dict[str, Team]) -> None:
    """Create (once) the demo cycles, objectives, key results, initiatives and eight weeks of check-ins."""
    today = timezone.localdate()
    q_start, q_end, q_num = _quarter_bounds(today)
    year, _ = Cycle.objects.get_or_create(
        organization=org,
        name=f"FY {today.year}",
        defaults={
            "kind": Cycle.Kind.YEAR,
            "status": Cycle.Status.ACTIVE,
            "start_date": dt.date(today.year, 1, 1),
            "end_date": dt.date(today.year, 12, 31),
        },
    )
    quarter, _ = Cycle.objects.get_or_create(
        organization=org,
        name=f"Q{q_num} {today.year}",
        defaults={
            "kind": Cycle.Kind.QUARTER,
            "status": Cycle.Status.ACTIVE,
            "start_date": q_start,
            "end_date": q_end,
            "parent": year,
        },
    )
    krs_by_title: dict[str, KeyResult] = {}
    objectives: dict[str, Objective] = {}
    for cycle, specs in ((year, YEAR), (quarter, COMPANY_Q + TEAM_Q)):
        for position, spec in enumerate(specs):
            objectives[spec.key] = _seed_objective(
                org=org,
                cycle=cycle,
                spec=spec,
                position=position,
                people=people,
                teams=teams,
                krs_by_title=krs_by_title,
                objectives=objectives,
                today=today,
            )
    for spec in COMPANY_Q + TEAM_Q:
        for kr_title, weight in spec.contributes_to:
            Contribution.objects.get_or_create(
                organization=org,
                objective=objectives[spec.key],
                key_result=krs_by_title[kr_title],
                defaults={"weight": weight},
            )


def _seed_objective(*, org, cycle, spec: Obj, position, people, teams, krs_by_title, objectives, today) -> Objective:
    objective, _ = Objective.objects.get_or_create(
        organization=org,
        cycle=cycle,
        title=spec.title,
        defaults={
            "description": spec.description,
            "level": spec.level,
            "team": teams.get(spec.team) if spec.team else None,
            "owner": people[spec.owner],
            "status": spec.status,
            "parent_key_result": krs_by_title.get(spec.parent_kr) if spec.parent_kr else None,
            "parent_objective": objectives.get(spec.parent_objective) if spec.parent_objective else None,
            "position": position,
        },
    )
    elapsed = _elapsed(cycle, today)
    for kr_position, kr_spec in enumerate(spec.krs):
        live = spec.status == Objective.Status.ACTIVE and kr_spec.owner is not None
        kr, _ = KeyResult.objects.get_or_create(
            organization=org,
            objective=objective,
            title=kr_spec.title,
            defaults={
                "owner": people[kr_spec.owner] if kr_spec.owner else None,
                "kind": kr_spec.kind,
                "unit": kr_spec.unit,
                "unit_label": kr_spec.unit_label,
                "decimals": kr_spec.decimals,
                "baseline": kr_spec.baseline,
                "target": D(len(kr_spec.steps)) if kr_spec.steps else kr_spec.target,
                "current": kr_spec.baseline,
                "band_low": kr_spec.band[0],
                "band_high": kr_spec.band[1],
                "milestone_steps": kr_spec.steps,
                "status": KeyResult.Status.ACTIVE if live else KeyResult.Status.DRAFT,
                "position": kr_position,
            },
        )
        krs_by_title[kr.title] = kr
        for i_position, (title, status, progress, *due) in enumerate(kr_spec.initiatives):
            due_date = (
                today + dt.timedelta(days=due[0]) if due else cycle.end_date - dt.timedelta(days=14 * (i_position % 3))
            )
            Initiative.objects.get_or_create(
                organization=org,
                key_result=kr,
                title=title,
                defaults={
                    "owner": kr.owner,
                    "status": status,
                    "progress": progress,
                    "position": i_position,
                    "hypothesis": HYPOTHESES.get(title, ""),
                    "due_date": due_date,
                },
            )
        if live and kr_spec.checkins:
            _seed_checkins(org=org, kr=kr, spec=kr_spec, elapsed=elapsed, today=today)
    return objective


def _final_value(kr: KeyResult, spec: KR, elapsed: float) -> Decimal:
    if spec.final is not None:
        return spec.final
    share = D(str(round(min(elapsed * (spec.pace or 0), 1.0), 4)))
    return kr.baseline + (kr.target - kr.baseline) * share


def _seed_checkins(*, org, kr: KeyResult, spec: KR, elapsed: float, today: dt.date) -> None:
    """Eight weekly check-ins ending this week (or `weeks_silent` weeks ago), walking from baseline to the value."""
    if CheckIn.objects.filter(organization=org, key_result=kr).exists():
        return
    final = _final_value(kr, spec, elapsed)
    start = kr.baseline if kr.kind != K.MAINTAIN else final
    this_monday = today - dt.timedelta(days=today.weekday())
    now = timezone.now()
    weeks = list(range(7, spec.weeks_silent - 1, -1))
    last = None
    for n, weeks_ago in enumerate(weeks, start=1):
        week_start = this_monday - dt.timedelta(weeks=weeks_ago)
        share = D(n) / D(len(weeks))
        value = start + (final - start) * share
        if kr.kind == K.MAINTAIN:
            value = final + D((-1) ** n * (len(weeks) - n))  # wobble inside the band, settling on the final value
        if kr.kind == K.MILESTONE:
            value = final if n == len(weeks) else min(final, D(int(final * share)))
        value = value.quantize(D(1).scaleb(-kr.decimals))
        confidence = max(0, min(10, spec.confidence + (1 if n < len(weeks) // 2 else 0)))
        created = timezone.make_aware(dt.datetime.combine(week_start, dt.time(10, 0)) + dt.timedelta(days=1))
        created = min(created, now - dt.timedelta(hours=1))
        checkin = CheckIn.objects.create(
            organization=org,
            key_result=kr,
            author=kr.owner,
            value=value,
            confidence=confidence if n < len(weeks) else spec.confidence,
            comment=_comment(n, len(weeks)),
            week_start=week_start,
        )
        # created_at is auto_now_add; the demo's history has to sit in the past weeks.
        CheckIn.objects.filter(pk=checkin.pk).update(created_at=created, updated_at=created)
        last = (value, created)
    if last:
        kr.current, kr.confidence, kr.last_checkin_at = last[0], spec.confidence, last[1]
        kr.save(update_fields=["current", "confidence", "last_checkin_at", "updated_at"])


def _comment(n: int, total: int) -> str:
    if n == 1:
        return "First check-in of the cycle."
    if n == total:
        return "Latest numbers from the dashboard."
    return ["Steady week.", "Small step forward.", "Slower than hoped.", "Good momentum."][n % 4]
