"""The fast nudge email path (raw MIME + pipelined SMTP) and the parallel claim lanes of the dispatcher."""

import email
import email.policy
import re
import smtplib
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.db import connection

from accounts.models import Membership
from checkins import nudge_dispatch
from checkins.models import CheckinNudge, NudgeClaim
from checkins.nudge_dispatch import nudges_dispatch
from checkins.nudge_mail import NudgeRenderer, mime_bytes, pipelined_sendmail
from checkins.nudge_send import nudge_batch_send
from tests.checkins.nudge_helpers import make_kr, make_member
from tests.checkins.worker_harness import SinkHandler, free_port
from tests.factories import OrganizationFactory

MONDAY_9 = datetime(2026, 6, 1, 9, tzinfo=UTC)


class PipeliningHandler(SinkHandler):
    """aiosmtpd sink that advertises PIPELINING (aiosmtpd reads commands in order, so it copes) and refuses one
    address, to exercise the pipelined client."""

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refused"):
            return "550 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def pipelining_sink():
    handler = PipeliningHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


def _parts(raw: bytes) -> tuple[email.message.Message, str, str]:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    return msg, text, html


def test_raw_mime_parses_like_djangos_message_for_the_same_content():
    text = "Hi Zoë,\n\n- Réduire le churn: 3 % (target 2 %)\n.a line starting with a dot\n" + "x" * 1200 + "\n"
    html = '<p style="color:#627d98">Hi Zoë — <a href="https://e.example/checkin/abc:def/">Check in</a></p>\n'
    subject = "Reminder: your weekly check-in for Ünïcode GmbH (2 key results)"
    renderer = NudgeRenderer()
    ours = mime_bytes(
        from_email=renderer.from_email,
        to="zoe@example.com",
        subject=subject,
        message_id="<n-1@x>",
        text=text,
        html=html,
    )
    django_msg = renderer.email(to="zoe@example.com", subject=subject, context={}, message_id="<n-1@x>")
    django_msg.body, django_msg.alternatives = text, []
    django_msg.attach_alternative(html, "text/html")
    theirs = django_msg.message().as_bytes(linesep="\r\n")
    (m1, t1, h1), (m2, t2, h2) = _parts(ours), _parts(theirs)
    for header in ("Subject", "From", "To", "Message-ID"):
        assert str(m1[header]).strip() == str(m2[header]).strip(), header  # Django's folding leaves a space
    assert m1.get_content_type() == m2.get_content_type() == "multipart/alternative"
    assert t1.replace("\r\n", "\n") == t2.replace("\r\n", "\n") == text
    assert h1.replace("\r\n", "\n") == h2.replace("\r\n", "\n") == html
    assert all(len(line) <= 998 for line in ours.split(b"\r\n"))
    assert b"\n" not in ours.replace(b"\r\n", b"")  # CRLF only: smtplib sends bytes as they are


def test_header_injection_through_the_subject_is_neutralised():
    raw = mime_bytes(from_email="a@x", to="b@x", subject="Hi\r\nBcc: evil@x", message_id=None, text="t", html="h")
    msg = email.message_from_bytes(raw)
    assert msg["Bcc"] is None and msg["Subject"] == "Hi Bcc: evil@x"


def test_pipelined_sendmail_delivers_and_survives_a_refused_recipient(pipelining_sink):
    handler, port = pipelining_sink
    smtp = smtplib.SMTP("127.0.0.1", port)
    smtp.ehlo()
    assert smtp.has_extn("pipelining")
    body = mime_bytes(from_email="a@x.test", to="one@x.test", subject="s", message_id=None, text=".dot\n", html="h")
    pipelined_sendmail(smtp, "a@x.test", "one@x.test", body)
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        pipelined_sendmail(smtp, "a@x.test", "refused@x.test", body)
    pipelined_sendmail(smtp, "a@x.test", "two@x.test", body)  # the connection is still usable after the RSET
    smtp.quit()
    assert [rcpts for rcpts, _ in handler.messages] == [["one@x.test"], ["two@x.test"]]
    _, text, _ = _parts(handler.messages[0][1])
    assert text.replace("\r\n", "\n") == ".dot\n"  # dot-stuffing round trip


@pytest.mark.django_db(transaction=True)
def test_batch_over_a_pipelining_smtp_server_sends_stamps_and_refuses(settings, pipelining_sink):
    handler, port = pipelining_sink
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    org = OrganizationFactory(name="Zürich AG")
    members = [make_member(org, email=f"p{i}@example.com") for i in range(3)]
    members.append(make_member(org, email="refused@example.com"))
    for i, m in enumerate(members):
        make_kr(m, title=f"KR {i} für alle")
    Membership.objects.filter(pk__in=[m.pk for m in members]).update(next_nudge_at=MONDAY_9 - timedelta(minutes=1))
    with time_machine.travel(MONDAY_9, tick=False):
        result = nudges_dispatch()
        outcome = nudge_batch_send(receipt_ids=result.batches[0])
        again = nudge_batch_send(receipt_ids=result.batches[0])
    assert (outcome.sent, outcome.refused, again.sent) == (3, 1, 0)
    assert sorted(r[0] for r, _ in handler.messages) == ["p0@example.com", "p1@example.com", "p2@example.com"]
    msg, text, html = _parts(handler.messages[0][1])
    assert "Zürich AG" in str(msg["Subject"]) and str(msg["Message-ID"]).startswith("<nudge-")
    assert "für alle" in text and "für alle" in html
    assert re.search(r"http://[^/\s]+/checkin/[^\s/]+/", text)
    channels = sorted(tuple(c) for c in CheckinNudge.objects.values_list("channels", flat=True))
    assert channels == [("email",)] * 3 + [("email_refused",)]
    assert CheckinNudge.objects.filter(sent_at=None).count() == 0


@pytest.mark.django_db(transaction=True)
def test_parallel_claim_lanes_claim_each_member_once_even_with_two_dispatchers(monkeypatch):
    monkeypatch.setattr(nudge_dispatch, "PARALLEL_ABOVE", 10)  # 60 due members: the claim runs in 2 lanes
    monkeypatch.setattr(nudge_dispatch, "CLAIM_CHUNK", 7)  # several chunks per lane
    org = OrganizationFactory()
    members = [make_member(org) for _ in range(60)]
    Membership.objects.filter(pk__in=[m.pk for m in members]).update(next_nudge_at=MONDAY_9 - timedelta(minutes=1))
    results, errors, barrier = [], [], threading.Barrier(2)

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
    assert sum(r.claimed for r in results) == 60 and sum(r.receipts for r in results) == 60
    ids = [i for r in results for b in r.batches for i in b]
    assert len(ids) == len(set(ids)) == 60
    assert set(ids) == {i for c in NudgeClaim.objects.all() for i in c.receipt_ids}
    assert sorted(m for c in NudgeClaim.objects.all() for m in c.membership_ids) == sorted(m.pk for m in members)
    assert Membership.objects.filter(pk__in=[m.pk for m in members], next_nudge_at__lte=MONDAY_9).count() == 0
