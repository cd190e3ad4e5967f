"""Building nudge emails fast: templates compiled once per batch, MIME bytes without the `email` package's generator.

Per message, Django's `EmailMultiAlternatives.message().as_bytes()` plus `sanitize_address` cost about 0.9 ms
(header folding through `email.header`, address parsing), three times the cost of rendering both templates. The nudge
always has the same shape (multipart/alternative: text + HTML, utf-8), so for Django's SMTP backend the sender writes
those bytes directly and hands them to the backend's open `smtplib` connection (`NudgeRenderer.send_smtp`). Every
other backend (locmem in tests, console, the dev outbox) gets the equivalent `EmailMultiAlternatives`
(`NudgeRenderer.email`); tests/checkins/test_nudge_mail.py checks that both parse to the same message.
"""

from __future__ import annotations

import binascii
import functools
import smtplib
import uuid
from email.header import Header
from email.utils import formatdate

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import sanitize_address
from django.template.loader import get_template
from django.urls import reverse

_TOKEN_MARK = "T0KENMARK"


def _header_text(value: str) -> str:
    """A header value on one line; RFC 2047-encoded when not ASCII."""
    value = " ".join(value.splitlines())
    return value if value.isascii() else Header(value, "utf-8").encode(linesep="\r\n")


def _address(addr: str) -> str:
    """ASCII addresses as they are (the common case); anything else through Django's sanitize_address (RFC 2047
    display name, IDNA domain), as Django does for its address headers."""
    if addr.isascii() and "\n" not in addr and "\r" not in addr:
        return addr
    return sanitize_address(addr, "utf-8")


def _part(content_type: str, body: str) -> bytes:
    crlf = body.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n").encode()
    payload = binascii.b2a_qp(crlf, istext=True)  # 7-bit safe for any server, lines ≤ 76
    return (
        f'Content-Type: {content_type}; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    ).encode() + payload


def mime_bytes(*, from_email: str, to: str, subject: str, message_id: str | None, text: str, html: str) -> bytes:
    """A multipart/alternative message (text + HTML), CRLF line ends, ready for `smtplib.SMTP.sendmail`."""
    boundary = f"===============nudge{uuid.uuid4().hex}=="
    head = (
        f'Content-Type: multipart/alternative; boundary="{boundary}"\r\nMIME-Version: 1.0\r\n'
        f"Subject: {_header_text(subject)}\r\nFrom: {_address(from_email)}\r\nTo: {_address(to)}\r\n"
        f"Date: {formatdate(localtime=settings.EMAIL_USE_LOCALTIME)}\r\n"
        + (f"Message-ID: {message_id}\r\n" if message_id else "")
        + f"\r\n--{boundary}\r\n"
    ).encode()
    sep = f"\r\n--{boundary}\r\n".encode()
    return head + _part("text/plain", text) + sep + _part("text/html", html) + f"\r\n--{boundary}--\r\n".encode()


class NudgeRenderer:
    """What one send batch needs once: the compiled templates, the link URL around the token, the sender."""

    def __init__(self):
        self.text_template = get_template("checkins/email/nudge.txt")
        self.html_template = get_template("checkins/email/nudge.html")
        # reverse() once: a signed token is URL-safe (base64 + ':'), so prefix + token + suffix is what reverse gives.
        url = settings.SITE_URL + reverse("nudge_checkin", args=[_TOKEN_MARK])
        self.link_prefix, self.link_suffix = url.split(_TOKEN_MARK)
        self.from_email = settings.DEFAULT_FROM_EMAIL
        self.envelope_from = sanitize_address(self.from_email, "utf-8")

    def link_url(self, token: str) -> str:
        return self.link_prefix + token + self.link_suffix

    def render(self, context: dict) -> tuple[str, str]:
        return self.text_template.render(context), self.html_template.render(context)

    def email(self, *, to: str, subject: str, context: dict, message_id: str | None) -> EmailMultiAlternatives:
        text, html = self.render(context)
        message = EmailMultiAlternatives(
            subject=subject, body=text, to=[to], headers={"Message-ID": message_id} if message_id else None
        )
        message.attach_alternative(html, "text/html")
        return message

    def send_smtp(self, smtp: smtplib.SMTP, *, to: str, subject: str, context: dict, message_id: str) -> None:
        """One message over an open SMTP connection; raises what smtplib raises (refused, disconnected…)."""
        text, html = self.render(context)
        data = mime_bytes(
            from_email=self.from_email, to=to, subject=subject, message_id=message_id, text=text, html=html
        )
        smtp.ehlo_or_helo_if_needed()
        if smtp.has_extn("pipelining"):
            pipelined_sendmail(smtp, self.envelope_from, _address(to), data)
        else:
            smtp.sendmail(self.envelope_from, [_address(to)], data)


@functools.lru_cache(maxsize=64)
def _quoteaddr_cached(addr: str) -> str:
    return smtplib.quoteaddr(addr)


def _quoteaddr(addr: str) -> str:
    """`<addr>` for a bare address (smtplib.quoteaddr parses every call); anything else the smtplib way, cached."""
    if "<" not in addr and " " not in addr and '"' not in addr and "(" not in addr:
        return f"<{addr}>"
    return _quoteaddr_cached(addr)


def pipelined_sendmail(smtp: smtplib.SMTP, from_addr: str, to_addr: str, data: bytes) -> None:
    """`smtp.sendmail` for one recipient with RFC 2920 PIPELINING: MAIL, RCPT and DATA go out in one write, so a
    message costs two round trips instead of four. Raises the same exceptions as `sendmail`, after an RSET."""
    smtp.send(f"MAIL FROM:{_quoteaddr(from_addr)}\r\nRCPT TO:{_quoteaddr(to_addr)}\r\nDATA\r\n")
    mail_reply = smtp.getreply()
    rcpt_reply = smtp.getreply()
    data_reply = smtp.getreply()
    if data_reply[0] == 354 and (mail_reply[0] != 250 or rcpt_reply[0] not in (250, 251)):
        smtp.send(b".\r\n")  # a lax server opened DATA anyway: close it empty
        smtp.getreply()
    if mail_reply[0] != 250:
        smtp._rset()
        raise smtplib.SMTPSenderRefused(mail_reply[0], mail_reply[1], from_addr)
    if rcpt_reply[0] not in (250, 251):
        smtp._rset()
        raise smtplib.SMTPRecipientsRefused({to_addr: rcpt_reply})
    if data_reply[0] != 354:
        smtp._rset()
        raise smtplib.SMTPDataError(*data_reply)
    body = smtplib._quote_periods(data)
    if body[-2:] != b"\r\n":
        body += b"\r\n"
    smtp.send(body + b".\r\n")
    code, reply = smtp.getreply()
    if code != 250:
        smtp._rset()
        raise smtplib.SMTPDataError(code, reply)


def is_smtp_backend(backend) -> bool:
    """Django's own SMTP backend (or a subclass): the fast path can use its `smtplib` connection."""
    return isinstance(backend, SmtpBackend)
