"""The weekly nudge pipeline: dispatcher (claims due members), batch sender (receipt first, one SMTP connection).

Guarantees (DESIGN.md §6, STYLE.md c.7):
- A member is claimed by exactly one dispatcher run: compare-and-set on `Membership.next_nudge_at`
  (UPDATE … WHERE next_nudge_at = <old>), in bulk, so two beats or a re-run claim nothing twice.
- The claim and its journal are written in ONE transaction. Each claimed member (with a week, and no receipt for
  that week yet) gets a receipt id reserved from CheckinNudge's own sequence; `NudgeClaim` rows hold (receipt id,
  membership, week) per batch of BATCH_SIZE, keyed by the batch's first receipt id. The journal is our outbox:
  batches of reserved receipt ids are published on commit.
- The send task writes the receipts before it sends anything (DESIGN.md §6): one autocommit statement deletes the
  batch's journal row and inserts its receipts with the reserved ids, both or neither, ON CONFLICT (membership,
  week, kind) DO NOTHING. A member who got that week's receipt meanwhile (rescheduled within the week and claimed
  again before the first batch ran) gets no second one: that reserved id is never used and counts as already done.
  A redelivered, retried or swept batch finds no journal row and goes on with the receipts that exist.
- Nothing is lost: a batch whose publish was lost (process killed between commit and publish, broker hiccup) or
  whose task died before writing its receipts still has its journal row; one whose task died after that left
  unsent receipts. The sweeper in each dispatcher run re-enqueues both after RESEND_AFTER (journal batches whole, so
  their first id finds the row).
- The sender takes a session-level advisory lock per receipt of its batch (one statement; a concurrent duplicate
  task skips receipts locked by another, and a killed worker's locks vanish with its connection), re-reads which are
  still unsent, then for each message: SMTP send, and right after the server's 250 an autocommit UPDATE stamping
  sent_at. A redelivered or swept batch skips stamped receipts; a failed send leaves the receipt unstamped for the
  retry. At-least-once window: a crash after the SMTP server accepted the DATA but before our stamp reached
  PostgreSQL (reading the 250 reply plus one UPDATE write: well under a millisecond on an idle machine, a few ms
  when the worker waits for a CPU) sends that one message again: at most one message per killed process. Every
  nudge carries a stable Message-ID derived from its receipt, so such a copy is recognisably the same message.
- `channels` on a stamped receipt says what happened: ["email", "slack"…] sent; [] skipped by rule (no active KR or
  everything already checked in); ["email_refused"] the server refused the address (not retried).

Why the send task writes the receipts (bench/README.md "Nudges" has the measurements). Writing 100,000 receipts in
the dispatcher's transaction (a heap row and four index entries each, two deferred FK checks each at commit) was a
third to 40% of the dispatcher's time and kept a 100,000-member wave over the 5 s enqueue budget on a busy 2-core box.
The journal costs one row per 500 members; the receipts are still written before the send, 500 per statement by
the task that sends them, spread over the delivery. What the dispatcher still writes is the compare-and-set UPDATE
of the memberships (non-HOT: next_nudge_at is indexed). Making that UPDATE HOT was the other option and is not done:
a wave updates every row of a page at once (an org is due together), so each page needs room for a second version
of all its rows: fillfactor 50 (measured on a copy: 10% of the updates HOT at fillfactor 90, all at 50), i.e. a
memberships table twice its size, read by every request, plus no index on next_nudge_at (a full scan every 5
minutes). A separate narrow "nudge schedule" table would spare memberships the rewrite but moves a field that the
scheduler, the settings pages and their tests use; it is the next step if the claim UPDATE becomes the limit.

Throughput (DESIGN.md §10): the claim of a chunk is ONE statement (CTE: due members → compare-and-set UPDATE →
reserve receipt ids → journal rows → the ids), with the DST-aware slot arithmetic done in Python only for the few
distinct (timezone, weekday, hour, due slot) keys. A big wave is claimed in two lanes (id parity, two connections)
so PostgreSQL writes on both cores. The sender renders with templates compiled once per batch, builds the MIME bytes
itself (checkins/nudge_mail.py) and, when the server offers PIPELINING, sends MAIL/RCPT/DATA in one write. None of
this moves the stamp: it is still written per message, right after that message's 250, so the at-least-once window
above is unchanged. The claim transactions commit with synchronous_commit off: a PostgreSQL crash within ~0.5 s of a
commit can lose that claim with its journal (never one without the other); the members are then due again and the
next run claims them once (a task already published for the lost batch finds no journal row and sends nothing). The
receipts are written with a synchronous commit, before any send.
"""

from __future__ import annotations

import logging
import smtplib
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
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

BATCH_SIZE = 500  # receipt ids per send task (DESIGN.md §10: fan out in batches, one SMTP connection per batch)
CLAIM_CHUNK = 50_000  # due members claimed per transaction (one statement; its row locks are held ~2-5 s)
CLAIM_LANES = 2  # parallel claim connections for a big wave (the box has 2 cores)
PARALLEL_ABOVE = 10_000  # due members above which the claim runs in CLAIM_LANES lanes
ASYNC_COMMIT_CLAIMS = True  # see _claim_chunk
STALE_SLOT_GRACE = timedelta(hours=36)  # a slot missed by longer (dispatcher down) is re-scheduled, not sent late
REMINDER_AFTER = timedelta(days=2)
REMINDER_WINDOW = timedelta(days=1)  # reminders are created for nudges sent between 3 and 2 days ago
RESEND_AFTER = timedelta(minutes=10)  # > task hard time limit (120 s): an unsent receipt this old has no live task
RESEND_WINDOW = timedelta(days=2)  # give up re-sending receipts older than this


# --- Dispatcher -----------------------------------------------------------------------------------------------------
@dataclass
class DispatchResult:
    scheduled: int = 0  # members who had no next_nudge_at yet
    claimed: int = 0
    receipts: int = 0  # receipt ids reserved: claimed minus stale slots and members whose week has its receipt
    reminders: int = 0
    swept: int = 0
    batches: list[list[int]] = field(default_factory=list)


def _enqueue(batches: list[list[int]], ids: list[int], *, on_commit: bool = True) -> None:
    """Publish `ids` in batches of BATCH_SIZE when the surrounding transaction commits (the claim journal and the
    receipts are the outbox). With on_commit=False the caller publishes `batches` itself, after the commit."""
    for i in range(0, len(ids), BATCH_SIZE):
        chunk = ids[i : i + BATCH_SIZE]
        batches.append(chunk)
        if on_commit:
            transaction.on_commit(lambda chunk=chunk: _publish(chunk))


def _publish(chunk: list[int]) -> None:
    from checkins.tasks import send_nudge_batch

    # The app's producer pool: one Redis connection reused by every batch of the run. A short argsrepr spares
    # Celery a saferepr() of 500 ids per message (a third of the publish cost).
    with send_nudge_batch.app.producer_or_acquire() as producer:
        send_nudge_batch.apply_async(
            (chunk,), producer=producer, argsrepr=f"[{len(chunk)} receipt ids]", kwargsrepr="{}"
        )


# Distinct (timing, slot that fell due) among due members: a handful of rows, so the slot arithmetic (zoneinfo, DST
# rules in checkins/schedule.py) stays in Python while the per-member work is one set-based statement below.
_DUE_KEYS_SQL = """
    SELECT COALESCE(NULLIF(m.timezone, ''), o.timezone), COALESCE(m.checkin_weekday, o.checkin_weekday),
           COALESCE(m.checkin_hour, o.checkin_hour), m.next_nudge_at
    FROM accounts_membership m JOIN accounts_organization o ON o.id = m.organization_id
    WHERE m.is_active AND m.next_nudge_at <= %(now)s AND m.id %% %(lanes)s = %(lane)s
    GROUP BY 1, 2, 3, 4
"""
# Claim (compare-and-set on next_nudge_at) and journal the claim in one statement: no per-member round trip or
# parameter. A member whose timing changed since _DUE_KEYS_SQL matches no key and waits for the next chunk. Each
# claimed member (with a week, and no receipt for it yet) gets a receipt id reserved from CheckinNudge's own sequence;
# the journal holds (receipt id, membership, week) in batches of BATCH_SIZE, keyed by the batch's first receipt id
# (the same batches _enqueue cuts from the sorted ids); the send task turns a batch into receipts (_MATERIALIZE_SQL).
# Nothing is written to the receipts table here.
_CLAIM_SQL = """
    WITH k AS (
        SELECT * FROM unnest(%(tz)s::text[], %(wd)s::int[], %(hr)s::int[], %(old)s::timestamptz[],
                             %(new)s::timestamptz[], %(week)s::date[]) AS k(tz, wd, hr, old_at, new_at, week)
    ), due AS (
        SELECT m.id, k.old_at, k.new_at, k.week
        FROM accounts_membership m
        JOIN accounts_organization o ON o.id = m.organization_id
        JOIN k ON k.old_at = m.next_nudge_at AND k.tz = COALESCE(NULLIF(m.timezone, ''), o.timezone)
              AND k.wd = COALESCE(m.checkin_weekday, o.checkin_weekday)
              AND k.hr = COALESCE(m.checkin_hour, o.checkin_hour)
        WHERE m.is_active AND m.next_nudge_at <= %(now)s AND m.id %% %(lanes)s = %(lane)s
        ORDER BY m.next_nudge_at
        LIMIT %(limit)s
    ), claimed AS (
        UPDATE accounts_membership AS m SET next_nudge_at = due.new_at
        FROM due
        WHERE m.id = due.id AND m.next_nudge_at = due.old_at AND m.is_active
        RETURNING m.id, due.week
    ), reserved AS (
        SELECT c.id, c.week, nextval(%(seq)s::regclass) AS receipt_id
        FROM claimed c
        WHERE c.week IS NOT NULL AND NOT EXISTS (
            SELECT FROM checkins_checkinnudge n
            WHERE n.membership_id = c.id AND n.week_start = c.week AND n.kind = %(kind)s
        )
    ), batched AS (
        SELECT r.*, (row_number() OVER (ORDER BY r.receipt_id) - 1) / %(batch)s AS batch FROM reserved r
    ), journal AS (
        INSERT INTO checkins_nudgeclaim (id, created_at, receipt_ids, membership_ids, week_starts)
        SELECT min(b.receipt_id), %(now)s, array_agg(b.receipt_id ORDER BY b.receipt_id),
               array_agg(b.id ORDER BY b.receipt_id), array_agg(b.week ORDER BY b.receipt_id)
        FROM batched b GROUP BY b.batch
        RETURNING id
    )
    SELECT (SELECT count(*) FROM due), (SELECT count(*) FROM claimed), (SELECT count(*) FROM journal),
           COALESCE((SELECT array_agg(receipt_id ORDER BY receipt_id) FROM batched), '{}')
"""


_sequence_name: str | None = None


def _receipt_sequence(cursor) -> str:
    """The sequence behind CheckinNudge.id (the claim reserves receipt ids from it, so they never collide)."""
    global _sequence_name
    if _sequence_name is None:
        cursor.execute("SELECT pg_get_serial_sequence('checkins_checkinnudge', 'id')")
        _sequence_name = cursor.fetchone()[0]
    return _sequence_name


def _claim_chunk(
    *, now: datetime, result: DispatchResult, lane: int = 0, lanes: int = 1, publish_on_commit: bool = True
) -> int:
    """Claim up to CLAIM_CHUNK due members (of this lane: id % lanes == lane) and journal their batches, in one
    transaction. Returns rows seen."""
    part = {"now": now, "lane": lane, "lanes": lanes}
    with transaction.atomic(), connection.cursor() as cursor:
        # Don't wait for the WAL flush of ~50k rows at commit. Only a PostgreSQL crash in the next few hundred ms
        # could lose this commit, and then the claim is lost with its journal: the members are due again and the
        # next run claims them (the tasks already published find no journal row or receipt and send nothing).
        if ASYNC_COMMIT_CLAIMS:
            cursor.execute("SET LOCAL synchronous_commit TO off")
        cursor.execute("SET LOCAL work_mem TO '32MB'")  # the chunk's sorts (~5 MB each) stay in memory
        cursor.execute(_DUE_KEYS_SQL, part)
        keys = cursor.fetchall()
        if not keys:
            return 0
        cols: dict[str, list] = {"tz": [], "wd": [], "hr": [], "old": [], "new": [], "week": []}
        for tz, wd, hr, old_at in keys:
            cols["tz"].append(tz)
            cols["wd"].append(wd)
            cols["hr"].append(hr)
            cols["old"].append(old_at)
            cols["new"].append(schedule.next_nudge_at(after=now, weekday=wd, hour=hr, tz=tz))
            # The week is the one of the slot that fell due, not of "now": a late run still nudges for that week.
            # A slot missed by more than STALE_SLOT_GRACE (dispatcher down) is re-scheduled without a receipt.
            stale = old_at < now - STALE_SLOT_GRACE
            cols["week"].append(None if stale else schedule.week_start_for(moment=old_at, tz=tz))
        cursor.execute(
            _CLAIM_SQL,
            {
                **cols,
                **part,
                "limit": CLAIM_CHUNK,
                "kind": CheckinNudge.Kind.NUDGE,
                "seq": _receipt_sequence(cursor),
                "batch": BATCH_SIZE,
            },
        )
        seen, claimed, _journal_rows, receipt_ids = cursor.fetchone()
        result.claimed += claimed
        result.receipts += len(receipt_ids)
        _enqueue(result.batches, receipt_ids, on_commit=publish_on_commit)
        return seen


_REMINDER_SQL = """
    INSERT INTO checkins_checkinnudge
        (organization_id, public_id, created_at, updated_at, membership_id, week_start, kind, channels)
    SELECT n.organization_id, gen_random_uuid(), %(now)s, %(now)s, n.membership_id, n.week_start, %(reminder)s,
           '[]'::jsonb
    FROM checkins_checkinnudge n
    JOIN accounts_membership m ON m.id = n.membership_id
    JOIN accounts_organization o ON o.id = n.organization_id
    WHERE n.kind = %(nudge)s AND n.sent_at <= %(due)s AND n.sent_at > %(oldest)s
      AND n.channels @> '["email"]'::jsonb AND o.reminders_enabled AND m.is_active
    ON CONFLICT (membership_id, week_start, kind) DO NOTHING
    RETURNING id
"""
# Bumping updated_at is the sweeper's claim: two dispatchers never re-enqueue the same receipt in one period.
_SWEEP_SQL = """
    UPDATE checkins_checkinnudge SET updated_at = %(now)s
    WHERE sent_at IS NULL AND updated_at <= %(stuck)s AND created_at > %(oldest)s
    RETURNING id
"""
# Claimed batches whose receipts were never written (the published batch was lost, or its task died before writing
# them): re-enqueue each batch whole (its first receipt id is the journal key). Bumping swept_at is the claim.
_SWEEP_CLAIMS_SQL = """
    UPDATE checkins_nudgeclaim SET swept_at = %(now)s
    WHERE COALESCE(swept_at, created_at) <= %(stuck)s AND created_at > %(oldest)s
    RETURNING receipt_ids
"""


def _claim_lane(*, now: datetime, lane: int, lanes: int) -> DispatchResult:
    result = DispatchResult()
    try:
        while _claim_chunk(now=now, result=result, lane=lane, lanes=lanes, publish_on_commit=False):
            pass
    finally:
        connection.close()  # this thread's own connection
    return result


def _claim_all(*, now: datetime, result: DispatchResult) -> None:
    """Claim every due member. A big wave (more than PARALLEL_ABOVE due) is split by id parity over CLAIM_LANES
    threads, each with its own connection and transactions: PostgreSQL does the writes on both cores at once. The
    lanes are disjoint, and each chunk is still a compare-and-set, so concurrent dispatchers stay safe."""
    if connection.in_atomic_block:  # called inside a transaction (tests): other connections couldn't see its rows
        lanes = 1
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM (SELECT 1 FROM accounts_membership WHERE is_active AND next_nudge_at <= %s "
                "LIMIT %s) due",
                [now, PARALLEL_ABOVE + 1],
            )
            lanes = CLAIM_LANES if cursor.fetchone()[0] > PARALLEL_ABOVE else 1
    if lanes == 1:
        while _claim_chunk(now=now, result=result):
            pass
        return
    with ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="nudge-claim") as pool:
        futures = [pool.submit(_claim_lane, now=now, lane=lane, lanes=lanes) for lane in range(lanes)]
        parts = [future.result() for future in futures]  # a failed lane raises here; its batches are swept later
    # Publish once every lane has committed: sending batches while the other lane still writes would take the CPU
    # that lane needs (bench/nudges.py, 100,000 members: 7.6 s with per-chunk publishing, 6.5 s like this). A crash
    # before this loop loses no nudge: the journal is committed, and the sweeper re-enqueues it after RESEND_AFTER.
    for part in parts:
        result.claimed += part.claimed
        result.receipts += part.receipts
        result.batches += part.batches
    for batch in result.batches:
        _publish(batch)


def nudges_dispatch(*, now: datetime | None = None) -> DispatchResult:
    """Claim every due member, journal them, enqueue send batches on commit; create reminders; sweep stuck ones.

    Safe to run concurrently and repeatedly (see the module docstring).
    """
    now = now or timezone.now()
    result = DispatchResult()
    # Members never scheduled (new memberships, imports) get their first slot; they are due from the next run.
    unscheduled = Membership.objects.filter(is_active=True, next_nudge_at=None)  # tenancy: system (all orgs)
    if unscheduled.exists():
        result.scheduled = schedule.memberships_reschedule(queryset=unscheduled, now=now)
    _claim_all(now=now, result=result)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _REMINDER_SQL,
            {
                "now": now,
                "due": now - REMINDER_AFTER,
                "oldest": now - REMINDER_AFTER - REMINDER_WINDOW,
                "nudge": CheckinNudge.Kind.NUDGE,
                "reminder": CheckinNudge.Kind.REMINDER,
            },
        )
        reminder_ids = sorted(r[0] for r in cursor.fetchall())
        result.reminders = len(reminder_ids)
        sweep = {"now": now, "stuck": now - RESEND_AFTER, "oldest": now - RESEND_WINDOW}
        cursor.execute(_SWEEP_SQL, sweep)
        swept = sorted(r[0] for r in cursor.fetchall())
        cursor.execute(_SWEEP_CLAIMS_SQL, sweep)
        swept_claims = sorted(r[0] for r in cursor.fetchall())
        result.swept = len(swept) + sum(len(ids) for ids in swept_claims)
        _enqueue(result.batches, sorted(set(reminder_ids) | set(swept)))
        for ids in swept_claims:  # whole, as claimed: the batch's first id finds its journal row
            _enqueue(result.batches, ids)
    if result.claimed or result.reminders or result.swept:
        logger.info(
            "nudges dispatched: claimed=%s receipts=%s reminders=%s swept=%s batches=%s",
            result.claimed,
            result.receipts,
            result.reminders,
            result.swept,
            len(result.batches),
        )
    return result


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
    from django.urls import NoReverseMatch

    try:
        return reverse("checkins:my_week", args=[org.slug])
    except NoReverseMatch:  # H6a's page not mounted: fall back to the org home
        return reverse("accounts:dashboard", args=[org.slug])
