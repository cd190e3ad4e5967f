"""The weekly leader digest: what moved, off track, watermelons, stale, missed check-ins — by team.

Recipients: active ADMINs/OWNERs (whole org) and team leads (their teams), minus those who opted out. Escalation:
a member who missed two weekly check-ins in a row (nudged both weeks, no check-in either week) is listed for their
manager (Membership.manager, else the lead of their team), who gets the digest for that reason too.
Health judgements come from objectives/health.py (H4's signals), so the digest says what the pages say.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Membership, Organization, Role, Team, TeamMember
from checkins.models import CheckIn, CheckinNudge
from checkins.schedule import get_zone, week_start_for
from objectives import health
from objectives.models import KeyResult
from objectives.progress import expected_progress, format_value

logger = logging.getLogger(__name__)
NO_TEAM = "No team"


@dataclass
class KrLine:
    title: str
    owner: str
    team: str
    progress: int
    current: str
    delta: str = ""
    reason: str = ""


@dataclass
class TeamSection:
    name: str
    moved: list[KrLine] = field(default_factory=list)
    off_track: list[KrLine] = field(default_factory=list)
    watermelons: list[KrLine] = field(default_factory=list)
    stale: list[KrLine] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.moved or self.off_track or self.watermelons or self.stale or self.missed)


@dataclass
class OrgDigest:
    org: Organization
    week_start: date
    sections: dict[str, TeamSection]
    missed_twice: dict[int, list[Membership]]  # membership id → people who missed two weeks in a row
    team_of: dict[int, str]  # membership id → team name


def _kr_facts(org: Organization, now: datetime):
    krs = list(
        KeyResult.objects.for_org(org)
        .filter(status=KeyResult.Status.ACTIVE)
        .select_related("objective__cycle", "objective__team", "owner__user")
    )
    recent: dict[int, list] = defaultdict(list)
    week_ago_values: dict[int, object] = {}
    for kr_id, value, created in (
        CheckIn.objects.for_org(org)
        .filter(key_result__in=krs, created_at__gte=now - timedelta(days=35))
        .order_by("key_result_id", "-created_at")
        .values_list("key_result_id", "value", "created_at")
    ):
        recent[kr_id].append(value)
        if created < now - timedelta(days=7) and kr_id not in week_ago_values:
            week_ago_values[kr_id] = value
    return krs, recent, week_ago_values


def digest_build(*, org: Organization, now: datetime | None = None) -> OrgDigest:
    """Everything the org's digest says, in a constant number of queries."""
    now = now or timezone.now()
    thresholds = health.thresholds_for(org.signal_settings)
    krs, recent, week_ago = _kr_facts(org, now)
    sections: dict[str, TeamSection] = {}
    today = now.astimezone(get_zone(org.timezone)).date()
    for kr in krs:
        team = kr.objective.team.name if kr.objective.team else NO_TEAM
        section = sections.setdefault(team, TeamSection(team))
        cycle = kr.objective.cycle
        expected = expected_progress(start=cycle.start_date, end=cycle.end_date, today=today)
        fmt = {"unit": kr.unit, "unit_label": kr.unit_label, "decimals": kr.decimals}
        line = KrLine(
            title=kr.title,
            owner=kr.owner.user.display_name if kr.owner else "—",
            team=team,
            progress=round(kr.progress * 100),
            current=format_value(value=kr.current, **fmt),
        )
        signals = health.kr_signals(
            title=kr.title,
            kind=kr.kind,
            unit=kr.unit,
            baseline=kr.baseline,
            target=kr.target,
            status=kr.status,
            has_owner=kr.owner_id is not None,
            progress=kr.progress,  # stored (objectives.progress_sql)
            expected=expected,
            confidence=kr.confidence,
            initiatives_total=kr.initiatives_total,
            initiatives_done=kr.initiatives_done,
            recent_values=recent.get(kr.pk, [])[:3],
            last_checkin_at=kr.last_checkin_at,
            created_at=kr.created_at,
            now=now,
            checkin_weekday=org.checkin_weekday,
            checkin_hour=org.checkin_hour,
            tz=org.timezone,
            t=thresholds,
        )
        by_code = {s.code: s for s in signals}
        if kr.pk in recent and any(v is not None for v in recent[kr.pk]):
            before = week_ago.get(kr.pk)
            newest = recent[kr.pk][0]
            if before is None or newest != before:
                delta = "" if before is None else f"{format_value(value=before, **fmt)} → {line.current}"
                if kr.last_checkin_at and kr.last_checkin_at >= now - timedelta(days=7):
                    section.moved.append(KrLine(**{**vars(line), "delta": delta or f"now {line.current}"}))
        for code, bucket in (
            ("off_track", section.off_track),
            ("watermelon", section.watermelons),
            ("stale", section.stale),
        ):
            if code in by_code:
                bucket.append(KrLine(**{**vars(line), "reason": by_code[code].reason}))
    missed_twice, team_of = _missed_two_weeks(org=org, now=now, sections=sections)
    return OrgDigest(org, week_start_for(moment=now, tz=org.timezone), sections, missed_twice, team_of)


def _missed_two_weeks(*, org: Organization, now: datetime, sections: dict[str, TeamSection]):
    """People nudged in each of the last two weeks who checked in neither week, keyed by who should hear of it."""
    this_week = week_start_for(moment=now, tz=org.timezone)
    weeks = [this_week - timedelta(days=7), this_week - timedelta(days=14)]
    nudged: dict[int, set] = defaultdict(set)
    for mid, week in (
        CheckinNudge.objects.for_org(org)
        .filter(kind=CheckinNudge.Kind.NUDGE, week_start__in=weeks, channels__contains=["email"])
        .values_list("membership_id", "week_start")
    ):
        nudged[mid].add(week)
    candidates = [mid for mid, ws in nudged.items() if len(ws) == 2]
    checked = set(
        CheckIn.objects.for_org(org)
        .filter(author_id__in=candidates, week_start__in=weeks)
        .values_list("author_id", flat=True)
    )
    missers = list(
        Membership.objects.for_org(org)
        .filter(pk__in=[c for c in candidates if c not in checked], is_active=True)
        .select_related("user")
    )
    team_of: dict[int, str] = {}
    lead_of: dict[int, int] = {}
    for tm in TeamMember.objects.for_org(org).filter(membership__in=missers).select_related("team"):
        team_of.setdefault(tm.membership_id, tm.team.name)
        if tm.team.lead_id and tm.team.lead_id != tm.membership_id:
            lead_of.setdefault(tm.membership_id, tm.team.lead_id)
    escalate: dict[int, list[Membership]] = defaultdict(list)
    for m in missers:
        team = team_of.get(m.pk, NO_TEAM)
        sections.setdefault(team, TeamSection(team)).missed.append(m.user.display_name)
        boss = m.manager_id or lead_of.get(m.pk)
        if boss:
            escalate[boss].append(m)
    return dict(escalate), team_of


def _recipients(org: Organization, digest: OrgDigest) -> list[tuple[Membership, list[TeamSection], list[Membership]]]:
    members = Membership.objects.for_org(org).filter(is_active=True, digest_opt_out=False).select_related("user")
    admins = {m.pk: m for m in members.filter(role__gte=Role.ADMIN)}
    led: dict[int, list[str]] = defaultdict(list)
    for team in Team.objects.for_org(org).filter(lead__isnull=False):
        led[team.lead_id].append(team.name)
    managers = set(digest.missed_twice)
    others = {m.pk: m for m in members.filter(pk__in=(set(led) | managers) - set(admins))}
    out = []
    for pk, m in {**admins, **others}.items():
        if pk in admins:
            sections = [s for _, s in sorted(digest.sections.items()) if not s.empty]
        else:
            sections = [digest.sections[n] for n in sorted(led.get(pk, [])) if n in digest.sections]
            sections = [s for s in sections if not s.empty]
        escalated = digest.missed_twice.get(pk, [])
        out.append((m, sections, escalated))
    return out


def digest_send(*, org: Organization, now: datetime | None = None) -> int:
    """Build and email the org's digest to every recipient over one SMTP connection; post a summary to Slack."""
    digest = digest_build(org=org, now=now)
    messages = []
    for m, sections, escalated in _recipients(org, digest):
        if not sections and not escalated:
            continue
        context = {
            "org": org,
            "recipient": m,
            "sections": sections,
            "escalated": escalated,
            "week_start": digest.week_start,
            "site_url": settings.SITE_URL,
        }
        msg = EmailMultiAlternatives(
            subject=f"Weekly OKR digest for {org.name}",
            body=render_to_string("checkins/email/digest.txt", context),
            to=[m.user.email],
        )
        msg.attach_alternative(render_to_string("checkins/email/digest.html", context), "text/html")
        messages.append(msg)
    sent = get_connection().send_messages(messages) if messages else 0
    _post_digest_to_slack(digest)
    return sent or 0


def _post_digest_to_slack(digest: OrgDigest) -> None:
    from checkins.slack import slack_post_enqueue

    def summary(sections) -> str:
        count = lambda name: sum(len(getattr(s, name)) for s in sections)  # noqa: E731
        return (
            f"{count('moved')} moved, {count('off_track')} off track, {count('watermelons')} watermelons, "
            f"{count('stale')} stale, {count('missed')} missed two check-ins"
        )

    org = digest.org
    # Only whether a webhook is set is read here (no decryption): the task reads the URL itself.
    for team_id, name in Team.objects.for_org(org).exclude(slack_webhook_url="").values_list("pk", "name"):
        if name in digest.sections:
            text = f"Weekly OKR digest, {org.name} / {name}: {summary([digest.sections[name]])}."
            slack_post_enqueue(team_id=team_id, payload={"text": text})
    if Organization.objects.filter(pk=org.pk).exclude(slack_webhook_url="").exists():  # tenancy: this org
        text = f"Weekly OKR digest for {org.name}: {summary(digest.sections.values())}."
        slack_post_enqueue(org_id=org.pk, payload={"text": text})


def _digest_due(org: Organization, now: datetime) -> date | None:
    """The local week whose digest is due now (its day and hour have passed this week), else None."""
    local = now.astimezone(get_zone(org.timezone))
    if (local.weekday(), local.hour) < (org.digest_weekday, org.digest_hour):
        return None
    return local.date() - timedelta(days=local.weekday())


def digests_send_due(*, now: datetime | None = None) -> int:
    """For each org whose digest time has come this week and not yet sent: claim the week (compare-and-set), send.

    The claim makes the digest at-most-once per org and week: a crash mid-send loses the rest of that week's digest
    rather than sending it twice (a digest is a summary; the next one covers the gap).
    """
    now = now or timezone.now()
    sent = 0
    # The encrypted Slack URL is loaded only for the orgs sending now, inside their own try: a URL that does not
    # decrypt fails that org's Slack post, not the scan.
    for org in Organization.objects.defer("slack_webhook_url"):  # tenancy: system (the hourly scan over tenants)
        week = _digest_due(org, now)
        if week is None or (org.last_digest_week and org.last_digest_week >= week):
            continue
        claimed = (
            Organization.objects.filter(pk=org.pk)  # tenancy: this org
            .filter(Q(last_digest_week__isnull=True) | Q(last_digest_week__lt=week))
            .update(last_digest_week=week)
        )
        if claimed:
            try:
                sent += digest_send(org=org, now=now)
            except Exception:  # one org's failure must not stop the others' digests
                logger.exception("digest for org %s failed", org.pk)
    return sent
