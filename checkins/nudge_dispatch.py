"""The weekly nudge pipeline, first half: the dispatcher (claims due members, journals them, publishes batches).

The batch sender is checkins/nudge_send.py; the guarantees below cover both.

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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Membership
from checkins import schedule
from checkins.models import CheckinNudge

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
