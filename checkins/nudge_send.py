"""The nudge sender: writes a claimed batch's receipts, then sends its nudges and reminders over one SMTP connection.

The guarantees of the whole pipeline (receipt before send, advisory locks, the per-message stamp and the
at-least-once window it leaves) are in checkins/nudge_dispatch.py's docstring; this module is their second half.
"""

from __future__ import annotations

import logging
import smtplib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Organization, TeamMember
from checkins import schedule
from checkins.links import nudge_link_token
from checkins.models import CheckIn, CheckinNudge
from checkins.nudge_mail import NudgeRenderer, is_smtp_backend
from objectives.models import KeyResult
from objectives.progress import format_value

logger = logging.getLogger(__name__)


# --- Sender ---------------------------------------------------------------------------------------------------------
@dataclass
class SendResult:
    sent: int = 0
    skipped: int = 0  # rule: nothing to check in
    already: int = 0  # stamped before, or being sent by another task right now
    refused: int = 0


@dataclass
class NudgeContent:
    membership: Membership
    key_results: list[KeyResult]
    pending: list[KeyResult]  # not yet checked in this week


def _key_results_by_owner(owner_ids: list[int]) -> dict[int, list[KeyResult]]:
    """Each owner's active KRs that someone types in. KRs fed by a script (API) or an integration get their values
    without the owner, so they never make a nudge (they still show on My week for confidence and comments)."""
    krs = (
        KeyResult.objects.filter(  # tenancy: owners' own KRs
            owner_id__in=owner_ids, status=KeyResult.Status.ACTIVE, data_source=KeyResult.DataSource.MANUAL
        )
        .select_related("objective")
        .order_by("objective__position", "position", "created_at")
    )
    by_owner: dict[int, list[KeyResult]] = defaultdict(list)
    for kr in krs:
        by_owner[kr.owner_id].append(kr)
    return by_owner


def nudge_contents(*, memberships: list[Membership], week_start_of: dict[int, date]) -> dict[int, NudgeContent]:
    """What each member would be nudged about: their active KRs and which of them still lack this week's check-in.

    Two queries whatever the number of members.
    """
    by_owner = _key_results_by_owner([m.pk for m in memberships])
    kr_ids = [kr.pk for krs in by_owner.values() for kr in krs]
    done = set(
        CheckIn.objects.filter(  # tenancy: KR ids above
            key_result_id__in=kr_ids, week_start__in=set(week_start_of.values())
        ).values_list("key_result_id", "week_start")
    )
    contents = {}
    for m in memberships:
        krs = by_owner.get(m.pk, [])
        week = week_start_of[m.pk]
        contents[m.pk] = NudgeContent(m, krs, [kr for kr in krs if (kr.pk, week) not in done])
    return contents


def _kr_lines(key_results: list[KeyResult]) -> list[dict]:
    return [
        {
            "title": kr.title,
            "objective": kr.objective.title,
            "current": format_value(value=kr.current, unit=kr.unit, unit_label=kr.unit_label, decimals=kr.decimals),
            "target": format_value(value=kr.target, unit=kr.unit, unit_label=kr.unit_label, decimals=kr.decimals),
            "last_checkin_at": kr.last_checkin_at,
        }
        for kr in key_results
    ]


def _nudge_context(*, content: NudgeContent, kind: str, week_start: date, url: str, test: bool) -> dict:
    m = content.membership
    return {
        "membership": m,
        "org": m.organization,
        "kind": kind,
        "week_start": week_start,
        "key_results": _kr_lines(content.pending),
        "url": url,
        "is_test": test,
        "site_name": settings.SITE_NAME,
    }


def _nudge_subject(*, content: NudgeContent, kind: str, test: bool) -> str:
    count = len(content.pending)
    subject = (
        f"{'Reminder: ' if kind == CheckinNudge.Kind.REMINDER else ''}your weekly check-in for "
        f"{content.membership.organization.name}"
    )
    subject += f" ({count} key result{'s' if count != 1 else ''})"
    return f"[Test] {subject}" if test else subject


def nudge_message(
    *, content: NudgeContent, kind: str, week_start: date, url: str, message_id: str | None = None, test=False
) -> EmailMultiAlternatives:
    """The nudge or reminder email (plain text + HTML) for one member."""
    return NudgeRenderer().email(
        to=content.membership.user.email,
        subject=_nudge_subject(content=content, kind=kind, test=test),
        context=_nudge_context(content=content, kind=kind, week_start=week_start, url=url, test=test),
        message_id=message_id,
    )


def _receipt_message_id(receipt: CheckinNudge) -> str:
    # Stable per receipt: a copy re-sent inside the at-least-once window is recognisably the same message.
    return f"<nudge-{receipt.public_id}@{settings.SITE_URL.split('://')[-1].split('/')[0].split(':')[0]}>"


# Advisory-lock namespace for nudge receipts (two-int form, so it cannot collide with single-key users).
_LOCK_CLASS = 0x6E756467  # "nudg"
# The batch's unsent receipts are selected first (MATERIALIZED), then locked. With the lock call in the same WHERE,
# PostgreSQL orders the filter by estimated cost and, on a sequential scan (a receipts table it believes small, e.g.
# analysed empty and then written by the first send tasks), called pg_try_advisory_lock before the `= ANY(ids)` test:
# a task locked every unsent receipt it passed, and a concurrent task skipped its own batch as "locked by another"
# until the sweeper re-enqueued it (bench/README.md "Nudges"; test_a_sender_locks_only_its_own_batch…).
_LOCK_SQL = """
    WITH batch AS MATERIALIZED (
        SELECT n.id FROM checkins_checkinnudge n WHERE n.id = ANY(%s) AND n.sent_at IS NULL
    )
    SELECT id FROM batch WHERE pg_try_advisory_lock(%s, (id %% 2147483647)::int)
"""
# Write the receipts of the claimed batches among `ids` (journal rows keyed by a batch's first receipt id) and drop
# their journal rows, in one statement (autocommit: both or neither). A member who meanwhile got a receipt for that
# week (ON CONFLICT on nudge_once_per_member_week) or whose membership is gone gets none: its reserved id stays
# unused and the sender counts it as already done. A batch whose journal row is gone was written before (redelivery,
# retry, sweep): nothing to do here.
_MATERIALIZE_SQL = """
    WITH claim AS (
        DELETE FROM checkins_nudgeclaim WHERE id = ANY(%(ids)s) RETURNING receipt_ids, membership_ids, week_starts
    )
    INSERT INTO checkins_checkinnudge
        (id, organization_id, public_id, created_at, updated_at, membership_id, week_start, kind, channels)
    SELECT u.receipt_id, m.organization_id, gen_random_uuid(), %(now)s, %(now)s, u.membership_id, u.week, %(kind)s,
           '[]'::jsonb
    FROM claim, unnest(claim.receipt_ids, claim.membership_ids, claim.week_starts) AS u(receipt_id, membership_id, week)
    JOIN accounts_membership m ON m.id = u.membership_id
    ON CONFLICT (membership_id, week_start, kind) DO NOTHING
"""
_STAMP_SQL = """
    UPDATE checkins_checkinnudge SET sent_at = %s, updated_at = %s, channels = %s::jsonb
    WHERE id = ANY(%s) AND sent_at IS NULL
"""


def nudge_claims_write_receipts(*, receipt_ids: list[int]) -> int:
    """Write the receipts of the claimed batches among `receipt_ids` (one statement, both-or-neither with dropping
    their journal rows); returns how many were written. A no-op for a batch written before."""
    with connection.cursor() as cursor:
        cursor.execute(
            _MATERIALIZE_SQL, {"ids": list(receipt_ids), "now": timezone.now(), "kind": CheckinNudge.Kind.NUDGE}
        )
        return cursor.rowcount


def nudge_batch_send(*, receipt_ids: list[int]) -> SendResult:
    """Write the receipts of a claimed batch, then send the nudges/reminders of a batch of receipts over one SMTP
    connection. Idempotent (module docstring)."""
    result = SendResult()
    # Receipts first (DESIGN.md §6), committed (synchronously: this session's default) before any send.
    nudge_claims_write_receipts(receipt_ids=receipt_ids)
    with connection.cursor() as cursor:
        # Autocommit statements from here on: each stamp is durable the moment it returns. synchronous_commit=off
        # (this session, reset below) skips the WAL-flush wait; only a PostgreSQL crash could lose a stamp.
        cursor.execute("SET synchronous_commit TO off")
        cursor.execute(_LOCK_SQL, [list(receipt_ids), _LOCK_CLASS])
        locked = [r[0] for r in cursor.fetchall()]
        try:
            result.already = len(set(receipt_ids)) - len(locked)
            if locked:
                _send_locked(cursor=cursor, receipt_ids=locked, result=result)
        finally:
            cursor.execute("SELECT pg_advisory_unlock_all()")
            cursor.execute("RESET synchronous_commit")
    return result


def _send_locked(*, cursor, receipt_ids: list[int], result: SendResult) -> None:
    # Re-read under the locks: another task may have stamped some between its unlock and our lock.
    receipts = list(
        CheckinNudge.objects.filter(pk__in=receipt_ids, sent_at=None)  # tenancy: by receipt id (task input)
        .select_related("membership__user", "membership__organization")
        # The encrypted Slack URL is read once per org after sending (_post_nudges_to_slack): a decryption
        # problem must not stop the emails, and one decryption per receipt would be wasted work.
        .defer("membership__organization__slack_webhook_url")
        .order_by("pk")
    )
    result.already += len(receipt_ids) - len(receipts)
    if not receipts:
        return
    contents = nudge_contents(
        memberships=[r.membership for r in receipts],
        week_start_of={r.membership_id: r.week_start for r in receipts},
    )
    to_send = []
    skipped = []
    for r in receipts:
        content = contents[r.membership_id]
        (to_send if r.membership.is_active and content.pending else skipped).append((r, content))
    if skipped:
        now = timezone.now()
        cursor.execute(_STAMP_SQL, [now, now, "[]", [r.pk for r, _ in skipped]])
        result.skipped = len(skipped)
    sent_to: list[Membership] = []
    renderer = NudgeRenderer()  # templates, link URL and sender address resolved once per batch
    mail = get_connection()
    fast = is_smtp_backend(mail)
    mail.open()  # one connection for the whole batch (a no-op for non-SMTP backends)
    try:
        for receipt, content in to_send:
            token = nudge_link_token(receipt=receipt, key_result_ids=[kr.pk for kr in content.pending])
            kind, week, test = receipt.kind, receipt.week_start, False
            to = receipt.membership.user.email
            subject = _nudge_subject(content=content, kind=kind, test=test)
            context = _nudge_context(
                content=content, kind=kind, week_start=week, url=renderer.link_url(token), test=test
            )
            message_id = _receipt_message_id(receipt)
            try:
                # Both raise on failure: the receipt stays unsent for the retry.
                if fast:
                    renderer.send_smtp(mail.connection, to=to, subject=subject, context=context, message_id=message_id)
                else:
                    mail.send_messages([renderer.email(to=to, subject=subject, context=context, message_id=message_id)])
            except smtplib.SMTPRecipientsRefused:
                logger.warning("nudge %s: recipient refused", receipt.pk)
                channels = '["email_refused"]'
                result.refused += 1
            else:
                channels = '["email"]'
                result.sent += 1
                sent_to.append(receipt.membership)
            now = timezone.now()
            cursor.execute(_STAMP_SQL, [now, now, channels, [receipt.pk]])
    finally:
        mail.close()
    if sent_to:
        _post_nudges_to_slack(sent_to)


def _post_nudges_to_slack(memberships: list[Membership]) -> None:
    """One Slack message per webhook (team's, else org's) naming who was nudged. Never blocks email."""
    from checkins.slack import slack_post_enqueue

    # Who is nudged where: the team's webhook, else the org's. Only whether one is set is read here (no decryption):
    # the task reads the URL itself.
    team_of: dict[int, int] = {}
    for membership_id, team_id in (
        TeamMember.objects.filter(membership__in=memberships)  # tenancy: the batch's memberships
        .exclude(team__slack_webhook_url="")
        .order_by("team_id")
        .values_list("membership_id", "team_id")
    ):
        team_of.setdefault(membership_id, team_id)
    orgs_with_hook = set(
        Organization.objects.filter(pk__in={m.organization_id for m in memberships})  # tenancy: the batch's orgs
        .exclude(slack_webhook_url="")
        .values_list("pk", flat=True)
    )
    by_hook: dict[tuple[str, int], list[Membership]] = defaultdict(list)
    for m in memberships:
        if m.pk in team_of:
            by_hook["team", team_of[m.pk]].append(m)
        elif m.organization_id in orgs_with_hook:
            by_hook["org", m.organization_id].append(m)
    for (kind, pk), people in by_hook.items():
        org = people[0].organization
        names = ", ".join(sorted(p.user.display_name for p in people))
        text = (
            f"Weekly check-in time at {org.name}: {names}. "
            f"Update your key results: {settings.SITE_URL}{reverse('home')}"
        )
        slack_post_enqueue(**{f"{kind}_id": pk}, payload={"text": text})


# --- Test nudge -----------------------------------------------------------------------------------------------------
def nudge_test_send(*, membership: Membership) -> bool:
    """Send `membership` a sample nudge now. Writes no receipt: the weekly nudge still goes out as planned.

    The link of a test nudge opens the member's own check-in pages (login required), not the one-step form:
    a one-step link is bound to a receipt, and a test must not consume this week's.
    """
    week = schedule.week_start_for(moment=timezone.now(), tz=membership.effective_timezone)
    content = nudge_contents(memberships=[membership], week_start_of={membership.pk: week})[membership.pk]
    if not content.pending:
        content.pending = content.key_results
    message = nudge_message(
        content=content,
        kind=CheckinNudge.Kind.NUDGE,
        week_start=week,
        url=settings.SITE_URL + _my_week_path(membership.organization),
        test=True,
    )
    return bool(message.send())


def _my_week_path(org: Organization) -> str:
    return reverse("checkins:my_week", args=[org.slug])
