"""The one-step check-in link in a nudge: signed, expiring (7 days), single-use, bound to one member and week.

The token is `django.core.signing` output (HMAC over SECRET_KEY with our own salt, timestamped) carrying the
membership id, the week, the receipt id and the ids of the KRs the email listed. Single use is enforced in the
database: `CheckinNudge.link_used_at` is set by a conditional UPDATE in the same transaction as the check-ins, so
a double submit or two tabs race to one winner, and a form that fails validation does not use the link up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core import signing
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership
from checkins.models import CheckinNudge
from objectives.models import KeyResult

SALT = "okrapp.checkins.nudge-link.v1"
LINK_MAX_AGE = timedelta(days=7)


class LinkProblem(Exception):
    """Why a link cannot be used; `status` is the HTTP status of the page that explains it."""

    def __init__(self, code: str, message: str, status: int):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


PROBLEMS = {
    "invalid": ("This check-in link is not valid. Use the link from your latest nudge email.", 404),
    "expired": ("This check-in link has expired (links work for 7 days). Check in from My week instead.", 410),
    "used": ("This check-in link has already been used, so nothing was changed.", 410),
    "inactive": ("This membership is no longer active, so the link no longer works.", 410),
}


def problem(code: str) -> LinkProblem:
    message, status = PROBLEMS[code]
    return LinkProblem(code, message, status)


def nudge_link_token(*, receipt: CheckinNudge, key_result_ids: list[int] | None = None) -> str:
    """A signed token for the receipt's member and week (and the KRs the email listed)."""
    payload = {"m": receipt.membership_id, "w": receipt.week_start.isoformat(), "r": receipt.pk}
    if key_result_ids is not None:
        payload["k"] = sorted(key_result_ids)
    return signing.dumps(payload, salt=SALT, compress=True)


@dataclass
class LinkTarget:
    receipt: CheckinNudge
    membership: Membership
    week_start: date
    key_results: list[KeyResult]


def nudge_link_resolve(*, token: str, now: datetime | None = None) -> LinkTarget:
    """Check a token and load what it points to; raises LinkProblem. Does not use the link up."""
    if not token or len(token) > 1000:
        raise problem("invalid")
    now = now or timezone.now()
    try:
        payload = signing.loads(token, salt=SALT, max_age=LINK_MAX_AGE)
    except signing.SignatureExpired:
        raise problem("expired") from None
    except signing.BadSignature:
        raise problem("invalid") from None
    try:
        membership_id, week, receipt_id = int(payload["m"]), date.fromisoformat(payload["w"]), int(payload["r"])
        kr_ids = [int(k) for k in payload["k"]] if "k" in payload else None
    except (KeyError, TypeError, ValueError):
        raise problem("invalid") from None
    receipt = (
        CheckinNudge.objects.select_related("membership__user", "membership__organization")  # tenancy: signed id
        .filter(pk=receipt_id, membership_id=membership_id, week_start=week)
        .first()
    )
    if receipt is None:
        raise problem("invalid")
    if receipt.link_used_at is not None:
        raise problem("used")
    if not receipt.membership.is_active:
        raise problem("inactive")
    membership = receipt.membership
    krs = KeyResult.objects.for_org(membership.organization).filter(
        owner=membership, status=KeyResult.Status.ACTIVE, data_source=KeyResult.DataSource.MANUAL
    )  # the KRs a nudge is about (checkins.nudge_send._key_results_by_owner)
    if kr_ids is not None:
        krs = krs.filter(pk__in=kr_ids)
    krs = krs.select_related("objective").order_by("objective__position", "position", "created_at")
    return LinkTarget(receipt=receipt, membership=membership, week_start=week, key_results=list(krs))


@transaction.atomic
def nudge_link_submit(*, token: str, rows: list[dict], now: datetime | None = None):
    """Use the link: mark it used and save the check-ins, all or nothing.

    `rows` are {"key_result": KeyResult, "value", "confidence", "comment"} for the KRs of the link. Raises
    LinkProblem, or the ValidationError/BatchValidationError of the check-in service (then nothing is saved and
    the link stays usable).
    """
    from checkins.services import CheckinRow, checkin_submit_many

    target = nudge_link_resolve(token=token, now=now)
    allowed = {kr.pk for kr in target.key_results}
    assert all(row["key_result"].pk in allowed for row in rows), "rows must come from the link's key results"
    used = CheckinNudge.objects.filter(pk=target.receipt.pk, link_used_at=None).update(  # tenancy: resolved above
        link_used_at=now or timezone.now()
    )
    if not used:
        raise problem("used")  # a parallel submit won the race
    checkin_rows = [
        CheckinRow(
            key_result=r["key_result"], value=r["value"], confidence=r.get("confidence"), comment=r.get("comment", "")
        )
        for r in rows
    ]
    result = checkin_submit_many(
        org=target.membership.organization, actor=target.membership, checkins=checkin_rows, now=now
    )
    return target, result
