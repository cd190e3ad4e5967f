"""Dispatcher and sender: idempotency, concurrency, crash recovery, skip/cap rules, email content."""

import smtplib
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection, transaction

from accounts.models import Membership
from checkins import nudge_dispatch
from checkins.models import CheckIn, CheckinNudge, NudgeClaim
from checkins.nudge_dispatch import RESEND_AFTER, nudges_dispatch
from checkins.nudge_send import nudge_batch_send, nudge_claims_write_receipts
from checkins.services import checkin_submit
from objectives.models import KeyResult
from tests.checkins.nudge_helpers import make_kr, make_member

MONDAY_9 = datetime(2026, 6, 1, 9, tzinfo=UTC)  # org default: Monday 09:00 UTC


def make_due(org, n=1, **fields):
    """n members with one KR each, due right now."""
    members = []
    for i in range(n):
        m = make_member(org, email=f"due{i}-{org.slug}@example.com", **fields)
        make_kr(m, title=f"KR of member {i}")
        members.append(m)
    Membership.objects.filter(pk__in=[m.pk for m in members]).update(next_nudge_at=MONDAY_9 - timedelta(minutes=1))
    return members


def run_dispatch(capture, **kwargs):
    with capture(execute=False) as callbacks:
        result = nudges_dispatch(**kwargs)
    return result, callbacks


def send_all(result):
    return [nudge_batch_send(receipt_ids=batch) for batch in result.batches]


@pytest.fixture
def at_monday():
    with time_machine.travel(MONDAY_9, tick=False) as traveller:
        yield traveller


def test_dispatch_enqueues_batches_on_commit(org, at_monday, django_capture_on_commit_callbacks):
    make_due(org, 3)
    result, callbacks = run_dispatch(django_capture_on_commit_callbacks)
    assert result.claimed == 3 and result.receipts == 3
    assert len(callbacks) == 1 and len(result.batches) == 1 and len(result.batches[0]) == 3
    # The claim journal is the outbox: one row per batch, keyed by its first reserved receipt id. The send task
    # writes the receipts (with exactly those ids) before it sends.
    (claim,) = NudgeClaim.objects.all()
    assert claim.pk == result.batches[0][0] and claim.receipt_ids == result.batches[0]
    assert sorted(claim.membership_ids) == sorted(Membership.objects.values_list("pk", flat=True))
    assert claim.week_starts == [MONDAY_9.date()] * 3
    assert not CheckinNudge.objects.exists()
    send_all(result)
    assert sorted(CheckinNudge.objects.values_list("pk", flat=True)) == result.batches[0]
    assert not NudgeClaim.objects.exists() and not CheckinNudge.objects.filter(sent_at=None).exists()


def test_dispatch_fans_out_in_batches_of_500(org, at_monday, django_capture_on_commit_callbacks):
    members = [make_member(org) for _ in range(3)]
    for m in members:
        make_kr(m)
    # 1,201 receipts without building 1,201 users: claimed rows are what counts.
    from tests.factories import UserFactory

    users = UserFactory.create_batch(1198)
    Membership.objects.bulk_create([Membership(organization=org, user=u) for u in users])
    Membership.objects.filter(organization=org).update(next_nudge_at=MONDAY_9 - timedelta(minutes=1))
    result, callbacks = run_dispatch(django_capture_on_commit_callbacks)
    assert result.claimed == 1201
    assert [len(b) for b in result.batches] == [500, 500, 201]
    assert len(callbacks) == 3
    claims = NudgeClaim.objects.order_by("pk")
    assert [(c.pk, c.receipt_ids) for c in claims] == [(b[0], b) for b in result.batches]


def test_running_the_dispatcher_twice_nudges_once(org, at_monday, mailoutbox, django_capture_on_commit_callbacks):
    make_due(org, 2)
    first, _ = run_dispatch(django_capture_on_commit_callbacks)
    second, second_callbacks = run_dispatch(django_capture_on_commit_callbacks)
    assert (first.claimed, second.claimed) == (2, 0)
    assert second_callbacks == []
    send_all(first)
    send_all(first)  # the same batch delivered twice (redelivery)
    assert len(mailoutbox) == 2
    assert sorted(m.to[0] for m in mailoutbox) == ["due0-acme@example.com", "due1-acme@example.com"]


def test_sender_skips_stamped_receipts_on_redelivery(org, at_monday, mailoutbox, django_capture_on_commit_callbacks):
    make_due(org, 2)
    result, _ = run_dispatch(django_capture_on_commit_callbacks)
    outcome = send_all(result)[0]
    assert outcome.sent == 2
    again = nudge_batch_send(receipt_ids=result.batches[0])
    assert (again.sent, again.already) == (0, 2)
    assert len(mailoutbox) == 2


class FlakyBackend(LocmemBackend):
    """Delivers like locmem, but the server drops the connection on the first message of each connection."""

    failures_left = 0

    def send_messages(self, messages):
        if FlakyBackend.failures_left:
            FlakyBackend.failures_left -= 1
            raise smtplib.SMTPServerDisconnected("connection dropped")
        return super().send_messages(messages)


def test_failed_send_rolls_back_the_stamp_and_the_retry_sends(
    org, at_monday, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.checkins.test_nudge_pipeline.FlakyBackend"
    mail.outbox = []
    make_due(org, 3)
    result, _ = run_dispatch(django_capture_on_commit_callbacks)
    FlakyBackend.failures_left = 1
    with pytest.raises(smtplib.SMTPServerDisconnected):
        nudge_batch_send(receipt_ids=result.batches[0])  # the task's autoretry catches this
    assert CheckinNudge.objects.filter(sent_at__isnull=False).count() == 0
    retry = nudge_batch_send(receipt_ids=result.batches[0])
    assert retry.sent == 3
    assert len(mail.outbox) == 3


def test_claimed_batch_lost_before_its_receipts_were_written_is_swept_and_sent_once(
    org, at_monday, mailoutbox, django_capture_on_commit_callbacks
):
    """Crash between claim and receipt write (the published batch was lost): the sweeper re-enqueues it, once."""
    make_due(org, 2)
    first, _ = run_dispatch(django_capture_on_commit_callbacks)  # batch "lost": never executed
    assert not CheckinNudge.objects.exists() and NudgeClaim.objects.count() == 1
    early, _ = run_dispatch(django_capture_on_commit_callbacks)
    assert early.swept == 0  # a queued batch may just be waiting; not yet
    at_monday.move_to(MONDAY_9 + RESEND_AFTER + timedelta(minutes=1))
    swept, _ = run_dispatch(django_capture_on_commit_callbacks)
    assert swept.swept == 2 and swept.claimed == 0
    again, _ = run_dispatch(django_capture_on_commit_callbacks)
    assert again.swept == 0  # claimed by the previous sweep
    assert swept.batches == first.batches  # the journal batch, whole
    send_all(swept)
    send_all(first)  # the lost message shows up after all (broker visibility timeout): nothing more is sent
    assert len(mailoutbox) == 2
    assert CheckinNudge.objects.filter(sent_at__isnull=False).count() == 2 and not NudgeClaim.objects.exists()


def test_task_died_after_writing_receipts_before_sending_is_swept_and_sent_once(
    org, at_monday, mailoutbox, django_capture_on_commit_callbacks
):
    make_due(org, 2)
    first, _ = run_dispatch(django_capture_on_commit_callbacks)
    assert nudge_claims_write_receipts(receipt_ids=first.batches[0]) == 2  # ... and then the worker was killed
    assert nudge_claims_write_receipts(receipt_ids=first.batches[0]) == 0  # written once
    assert CheckinNudge.objects.filter(sent_at=None).count() == 2 and not NudgeClaim.objects.exists()
    at_monday.move_to(MONDAY_9 + RESEND_AFTER + timedelta(minutes=1))
    swept, _ = run_dispatch(django_capture_on_commit_callbacks)
    assert swept.swept == 2 and swept.batches == first.batches  # now as unsent receipts
    send_all(swept)
    send_all(first)
    assert len(mailoutbox) == 2


def test_a_receipt_write_that_did_not_commit_leaves_the_claim_for_the_retry(
    org, at_monday, mailoutbox, django_capture_on_commit_callbacks
):
    """The receipts and the journal row's removal commit together: a failure in between loses and duplicates nothing."""
    make_due(org, 3)
    result, _ = run_dispatch(django_capture_on_commit_callbacks)
    with pytest.raises(RuntimeError), transaction.atomic():
        nudge_claims_write_receipts(receipt_ids=result.batches[0])
        raise RuntimeError("worker killed before the commit")
    assert not CheckinNudge.objects.exists()
    assert NudgeClaim.objects.get().receipt_ids == result.batches[0]
    (outcome,) = send_all(result)  # the redelivered task
    assert outcome.sent == 3 and len(mailoutbox) == 3


def test_claimed_again_in_the_same_week_before_the_first_batch_ran_sends_once(
    org, at_monday, mailoutbox, django_capture_on_commit_callbacks
):
    """Two journal entries for one (member, week): the receipt constraint lets one batch write it, once."""
    from accounts.services import membership_update_preferences

    (m,) = make_due(org, 1)
    first, _ = run_dispatch(django_capture_on_commit_callbacks)  # queued behind a long backlog, not run yet
    membership_update_preferences(membership=m, checkin_weekday=2)  # Wednesday, same week
    at_monday.move_to(MONDAY_9 + timedelta(days=2, minutes=1))
    second, _ = run_dispatch(django_capture_on_commit_callbacks)
    assert second.receipts == 1  # no receipt for the week yet, so a second id is reserved
    assert [o.sent for o in send_all(second)] == [1]
    assert [(o.sent, o.already) for o in send_all(first)] == [(0, 1)]  # its id is never written
    assert len(mailoutbox) == 1
    assert CheckinNudge.objects.filter(membership=m).count() == 1 and not NudgeClaim.objects.exists()


def test_membership_deleted_between_claim_and_receipt_write(
    org, at_monday, mailoutbox, django_capture_on_commit_callbacks
):
    gone, stays = make_due(org, 2)
    result, _ = run_dispatch(django_capture_on_commit_callbacks)
    gone.owned_key_results.all().delete()  # an active KR needs an owner
    gone.delete()
    (outcome,) = send_all(result)
    assert (outcome.sent, outcome.already) == (1, 1)
    assert [message.to for message in mailoutbox] == [[stays.user.email]]
    assert list(CheckinNudge.objects.values_list("membership_id", flat=True)) == [stays.pk]
    assert not NudgeClaim.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_claim_each_member_once(settings):
    from tests.factories import OrganizationFactory

    org = OrganizationFactory()
    make_due(org, 60)
    results, errors = [], []
    barrier = threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            with time_machine.travel(MONDAY_9, tick=False):
                results.append(nudges_dispatch())
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(r.claimed for r in results) == 60
    ids = [i for r in results for b in r.batches for i in b]
    assert len(ids) == len(set(ids)) == 60
    assert sorted(i for c in NudgeClaim.objects.all() for i in c.receipt_ids) == sorted(ids)
    claimed = [m for c in NudgeClaim.objects.all() for m in c.membership_ids]
    assert len(claimed) == len(set(claimed)) == 60


class BlockingBackend(LocmemBackend):
    """Delivers like locmem, but the first send of a test waits until released: a task held up mid-batch."""

    entered = threading.Event()
    release = threading.Event()

    def send_messages(self, messages):
        if not BlockingBackend.entered.is_set():
            BlockingBackend.entered.set()
            BlockingBackend.release.wait(timeout=30)
        return super().send_messages(messages)


def _no_index_scans():
    with connection.cursor() as cursor:
        cursor.execute("SET enable_indexscan = off")
        cursor.execute("SET enable_bitmapscan = off")


@pytest.mark.django_db(transaction=True)
def test_a_sender_locks_only_its_own_batch_even_when_receipts_are_scanned_sequentially(settings, monkeypatch):
    """Regression: on a receipts table the planner scans (small or just-analysed), a task used to lock every unsent
    receipt it passed, so a concurrent task with another batch skipped its own until the sweeper came."""
    from tests.factories import OrganizationFactory

    settings.EMAIL_BACKEND = "tests.checkins.test_nudge_pipeline.BlockingBackend"
    mail.outbox = []
    BlockingBackend.entered.clear()
    BlockingBackend.release.clear()
    monkeypatch.setattr(
        nudge_dispatch, "BATCH_SIZE", 20
    )  # enough ids for PostgreSQL to test the lock call before `= ANY`
    make_due(OrganizationFactory(), 40)
    with time_machine.travel(MONDAY_9, tick=False):
        result = nudges_dispatch()  # autocommit here: on_commit runs at once; the broker isn't consumed in this test
    first, second = result.batches
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE checkins_checkinnudge")  # empty: the state in which the bench hit this
    for batch in (first, second):
        nudge_claims_write_receipts(receipt_ids=batch)
    outcomes = {}

    def send_first():
        try:
            _no_index_scans()
            outcomes["first"] = nudge_batch_send(receipt_ids=first)
        finally:
            connection.close()

    thread = threading.Thread(target=send_first)
    thread.start()
    try:
        assert BlockingBackend.entered.wait(timeout=15)  # the first task holds its locks, mid-batch
        _no_index_scans()
        outcomes["second"] = nudge_batch_send(receipt_ids=second)
    finally:
        BlockingBackend.release.set()
        thread.join()
        with connection.cursor() as cursor:
            cursor.execute("RESET enable_indexscan")
            cursor.execute("RESET enable_bitmapscan")
    assert (outcomes["first"].sent, outcomes["second"].sent) == (20, 20)
    assert len(mail.outbox) == 40 and not CheckinNudge.objects.filter(sent_at=None).exists()


@pytest.mark.django_db(transaction=True)
def test_two_senders_with_the_same_batch_send_each_message_once(mailoutbox):
    from tests.factories import OrganizationFactory

    org = OrganizationFactory()
    make_due(org, 40)
    with time_machine.travel(MONDAY_9, tick=False):
        result = nudges_dispatch()  # autocommit here: on_commit runs at once; the broker isn't consumed in this test
    outcomes, barrier = [], threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            outcomes.append(nudge_batch_send(receipt_ids=result.batches[0]))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(o.sent for o in outcomes) == 40
    assert len(mailoutbox) == 40
    assert len({m.to[0] for m in mailoutbox}) == 40


def test_email_lists_krs_with_last_values_and_a_link(org, at_monday, mailoutbox, django_capture_on_commit_callbacks):
    (m,) = make_due(org, 1)
    make_kr(m, title="Reduce churn to 2%", current=3, target=2)
    result, _ = run_dispatch(django_capture_on_commit_callbacks)
    send_all(result)
    (message,) = mailoutbox
    assert message.to == [m.user.email]
    assert "KR of member 0" in message.body and "Reduce churn to 2%" in message.body
    assert "10%" in message.body and "3%" in message.body  # last values with units
    html = message.alternatives[0][0]
    assert "Reduce churn to 2%" in html and "/checkin/" in html
    assert "/checkin/" in message.body
    assert message.extra_headers["Message-ID"].startswith("<nudge-")


def test_members_without_active_krs_are_skipped(org, at_monday, mailoutbox, django_capture_on_commit_callbacks):
    lonely = make_member(org)
    draft_owner = make_member(org)
    make_kr(draft_owner, status="draft")
    Membership.objects.filter(pk__in=[lonely.pk, draft_owner.pk]).update(next_nudge_at=MONDAY_9 - timedelta(minutes=1))
    result, _ = run_dispatch(django_capture_on_commit_callbacks)
    (outcome,) = send_all(result)
    assert outcome.skipped == 2 and outcome.sent == 0
    assert mailoutbox == []
    stamped = list(CheckinNudge.objects.values_list("channels", "sent_at"))
    assert len(stamped) == 2 and all(channels == [] and sent_at for channels, sent_at in stamped)


def test_krs_fed_by_scripts_or_integrations_never_make_a_nudge(
    org, at_monday, mailoutbox, django_capture_on_commit_callbacks
):
    automatic_only, mixed = make_due(org, 2)
    KeyResult.objects.filter(owner=automatic_only).update(data_source=KeyResult.DataSource.API)
    fed = make_kr(mixed, title="Weekly active teams (from the warehouse)")
    KeyResult.objects.filter(pk=fed.pk).update(data_source=KeyResult.DataSource.JIRA_JQL)
    result, _ = run_dispatch(django_capture_on_commit_callbacks)
    (outcome,) = send_all(result)
    assert (outcome.sent, outcome.skipped) == (1, 1)
    (message,) = mailoutbox
    assert message.to == [mixed.user.email]
    assert "KR of member 1" in message.body and "from the warehouse" not in message.body


def test_members_checked_in_on_everything_are_skipped_and_others_see_only_pending(
    org, at_monday, mailoutbox, django_capture_on_commit_callbacks
):
    done, partial = make_due(org, 2)
    extra = make_kr(partial, title="Second KR of partial")
    checkin_submit(org=org, actor=done, key_result=done.owned_key_results.get(), value=20)
    checkin_submit(org=org, actor=partial, key_result=extra, value=20)
    result, _ = run_dispatch(django_capture_on_commit_callbacks)
    (outcome,) = send_all(result)
    assert (outcome.sent, outcome.skipped) == (1, 1)
    (message,) = mailoutbox
    assert message.to == [partial.user.email]
    assert "KR of member 1" in message.body and "Second KR of partial" not in message.body


def test_one_reminder_two_days_later_only_if_still_not_checked_in(
    org, at_monday, mailoutbox, django_capture_on_commit_callbacks
):
    lazy, diligent = make_due(org, 2)
    result, _ = run_dispatch(django_capture_on_commit_callbacks)
    send_all(result)
    at_monday.move_to(MONDAY_9 + timedelta(days=1))
    checkin_submit(org=org, actor=diligent, key_result=diligent.owned_key_results.get(), value=30)
    assert run_dispatch(django_capture_on_commit_callbacks)[0].reminders == 0  # too early
    at_monday.move_to(MONDAY_9 + timedelta(days=2, minutes=5))
    result, _ = run_dispatch(django_capture_on_commit_callbacks)
    assert result.reminders == 2  # both get a receipt; the sender checks who still needs it
    (outcome,) = send_all(result)
    assert (outcome.sent, outcome.skipped) == (1, 1)
    assert [m.subject.startswith("Reminder") for m in mailoutbox] == [False, False, True]
    assert mailoutbox[-1].to == [lazy.user.email]
    for hours in (1, 5, 20):  # capped: no second reminder that week
        at_monday.move_to(MONDAY_9 + timedelta(days=2, hours=hours))
        assert run_dispatch(django_capture_on_commit_callbacks)[0].reminders == 0
    assert CheckinNudge.objects.filter(membership=lazy).count() == 2


def test_no_reminders_when_the_org_turned_them_off(org, at_monday, mailoutbox, django_capture_on_commit_callbacks):
    org.reminders_enabled = False
    org.save()
    make_due(org, 1)
    send_all(run_dispatch(django_capture_on_commit_callbacks)[0])
    at_monday.move_to(MONDAY_9 + timedelta(days=2, minutes=5))
    assert run_dispatch(django_capture_on_commit_callbacks)[0].reminders == 0
    assert len(mailoutbox) == 1


def test_rescheduling_within_the_week_never_sends_a_second_nudge(
    org, at_monday, mailoutbox, django_capture_on_commit_callbacks
):
    from accounts.services import membership_update_preferences

    (m,) = make_due(org, 1)
    send_all(run_dispatch(django_capture_on_commit_callbacks)[0])
    membership_update_preferences(membership=m, checkin_weekday=2)  # Wednesday, same week
    at_monday.move_to(MONDAY_9 + timedelta(days=2, minutes=1))
    result, _ = run_dispatch(django_capture_on_commit_callbacks)
    assert result.claimed == 1 and result.receipts == 0  # the week already has its nudge
    assert len(mailoutbox) == 1


def test_a_slot_missed_for_days_is_rescheduled_not_sent_late(org, at_monday, django_capture_on_commit_callbacks):
    (m,) = make_due(org, 1)
    Membership.objects.filter(pk=m.pk).update(next_nudge_at=MONDAY_9 - timedelta(days=3))
    result, _ = run_dispatch(django_capture_on_commit_callbacks)
    assert (result.claimed, result.receipts) == (1, 0)
    m.refresh_from_db()
    assert m.next_nudge_at == MONDAY_9 + timedelta(days=7)


def test_inactive_members_are_never_nudged(org, at_monday, django_capture_on_commit_callbacks):
    (m,) = make_due(org, 1)
    Membership.objects.filter(pk=m.pk).update(is_active=False)
    assert run_dispatch(django_capture_on_commit_callbacks)[0].claimed == 0


def test_checkins_do_not_leak_across_orgs(org, other_org, at_monday, mailoutbox, django_capture_on_commit_callbacks):
    ours = make_due(org, 1)[0]
    theirs = make_due(other_org, 1)[0]
    result, _ = run_dispatch(django_capture_on_commit_callbacks)
    send_all(result)
    by_to = {m.to[0]: m for m in mailoutbox}
    assert "Acme" in by_to[ours.user.email].subject and "Globex" in by_to[theirs.user.email].subject
    assert "KR of member 0" in by_to[theirs.user.email].body
    assert CheckIn.objects.count() == 0
