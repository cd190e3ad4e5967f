"""The signed, expiring, single-use one-step check-in link."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import signing
from django.urls import reverse

from checkins.links import SALT, nudge_link_token
from checkins.models import CheckIn, CheckinNudge
from objectives.models import KeyResult
from tests.checkins.nudge_helpers import make_kr, make_member

MONDAY = datetime(2026, 6, 1, 9, tzinfo=UTC)


@pytest.fixture
def nudge(org):
    """A sent nudge for a member with two KRs; returns (membership, receipt, krs, url path)."""
    m = make_member(org, email="kr.owner@acme.test")
    krs = [make_kr(m, title="Increase NPS to 50", current=30), make_kr(m, title="Grow revenue to 1M", current=100)]
    receipt = CheckinNudge.objects.create(
        organization=org, membership=m, week_start=MONDAY.date(), kind="nudge", sent_at=MONDAY, channels=["email"]
    )
    with time_machine.travel(MONDAY, tick=False):
        token = nudge_link_token(receipt=receipt, key_result_ids=[kr.pk for kr in krs])
    return m, receipt, krs, reverse("nudge_checkin", args=[token])


def form_data(krs, values):
    data = {}
    for kr, value in zip(krs, values, strict=True):
        data[f"{kr.public_id}-value"] = value
        data[f"{kr.public_id}-confidence"] = "7"
        data[f"{kr.public_id}-comment"] = f"note on {kr.title}"
    return data


def test_link_opens_the_form_without_login(client, nudge):
    m, _, krs, url = nudge
    with time_machine.travel(MONDAY + timedelta(hours=2)):
        response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Increase NPS to 50" in body and "Grow revenue to 1M" in body
    assert response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]


def test_submit_saves_checkins_and_uses_the_link_up(client, nudge):
    m, receipt, krs, url = nudge
    with time_machine.travel(MONDAY + timedelta(hours=2)):
        response = client.post(url, form_data(krs, ["42", "250000"]))
        assert response.status_code == 200
        assert b"your check-in is saved" in response.content
        again = client.get(url)
    assert again.status_code == 410 and b"already been used" in again.content
    receipt.refresh_from_db()
    assert receipt.link_used_at is not None
    values = {c.key_result_id: c for c in CheckIn.objects.filter(author=m)}
    assert values[krs[0].pk].value == 42 and values[krs[0].pk].confidence == 7
    assert values[krs[0].pk].comment == "note on Increase NPS to 50"
    assert KeyResult.objects.get(pk=krs[1].pk).current == 250000


def test_blank_value_skips_that_kr(client, nudge):
    m, _, krs, url = nudge
    with time_machine.travel(MONDAY + timedelta(hours=2)):
        response = client.post(url, form_data(krs, ["42", ""]))
    assert response.status_code == 200
    assert list(CheckIn.objects.values_list("key_result_id", flat=True)) == [krs[0].pk]


def test_reused_link_changes_nothing(client, nudge):
    m, receipt, krs, url = nudge
    with time_machine.travel(MONDAY + timedelta(hours=2)):
        client.post(url, form_data(krs, ["42", "1"]))
        response = client.post(url, form_data(krs, ["99", "99"]))
    assert response.status_code == 410
    assert CheckIn.objects.count() == 2
    assert KeyResult.objects.get(pk=krs[0].pk).current == 42


def test_expired_link_changes_nothing(client, nudge):
    m, receipt, krs, url = nudge
    with time_machine.travel(MONDAY + timedelta(days=7, minutes=1)):
        get = client.get(url)
        post = client.post(url, form_data(krs, ["42", "1"]))
    assert get.status_code == post.status_code == 410
    assert b"expired" in get.content
    assert CheckIn.objects.count() == 0
    receipt.refresh_from_db()
    assert receipt.link_used_at is None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # broken signature
        lambda t: "x" + t,
        lambda t: signing.dumps({"m": 1, "w": "2026-06-01", "r": 1}, salt="some-other-salt"),
        lambda t: "not-a-token",
    ],
)
def test_tampered_link_is_404_and_changes_nothing(client, nudge, mangle):
    m, receipt, krs, url = nudge
    token = url.rstrip("/").rsplit("/", 1)[1]
    bad = reverse("nudge_checkin", args=[mangle(token)])
    with time_machine.travel(MONDAY + timedelta(hours=2)):
        response = client.post(bad, form_data(krs, ["42", "1"]))
    assert response.status_code == 404
    assert b"link is not valid" in response.content
    assert CheckIn.objects.count() == 0


def test_token_for_another_members_receipt_is_rejected(client, nudge, org):
    m, receipt, krs, url = nudge
    other = make_member(org)
    forged = signing.dumps({"m": other.pk, "w": "2026-06-01", "r": receipt.pk}, salt=SALT, compress=True)
    with time_machine.travel(MONDAY + timedelta(hours=2)):
        response = client.get(reverse("nudge_checkin", args=[forged]))
    assert response.status_code == 404


def test_form_shows_exactly_the_krs_of_the_link(client, nudge):
    m, _, krs, url = nudge
    make_kr(m, title="A KR created after the email")
    with time_machine.travel(MONDAY + timedelta(hours=2)):
        response = client.get(url)
    assert b"A KR created after the email" not in response.content
    assert len(re.findall(rb'data-testid="nudge-kr-row"', response.content)) == 2


def test_invalid_value_shows_errors_and_keeps_the_link(client, nudge):
    m, receipt, krs, url = nudge
    with time_machine.travel(MONDAY + timedelta(hours=2)):
        response = client.post(url, form_data(krs, ["forty-two", "5"]))
        assert response.status_code == 422
        assert b"Enter a number." in response.content
        assert CheckIn.objects.count() == 0
        receipt.refresh_from_db()
        assert receipt.link_used_at is None
        ok = client.post(url, form_data(krs, ["42", "5"]))
    assert ok.status_code == 200


def test_empty_submission_asks_for_a_value(client, nudge):
    m, receipt, krs, url = nudge
    with time_machine.travel(MONDAY + timedelta(hours=2)):
        response = client.post(url, form_data(krs, ["", ""]))
    assert response.status_code == 422
    assert b"at least one key result" in response.content


def test_deactivated_member_cannot_use_the_link(client, nudge):
    m, receipt, krs, url = nudge
    m.is_active = False
    m.save()
    with time_machine.travel(MONDAY + timedelta(hours=2)):
        response = client.post(url, form_data(krs, ["42", "1"]))
    assert response.status_code == 410
    assert CheckIn.objects.count() == 0


def test_link_from_the_sent_email_works(org, mailoutbox, client, django_capture_on_commit_callbacks):
    from accounts.models import Membership
    from checkins.nudge_dispatch import nudges_dispatch
    from checkins.nudge_send import nudge_batch_send

    m = make_member(org)
    make_kr(m, title="Only KR")
    Membership.objects.filter(pk=m.pk).update(next_nudge_at=MONDAY - timedelta(minutes=1))
    with time_machine.travel(MONDAY, tick=False):
        with django_capture_on_commit_callbacks(execute=False):
            result = nudges_dispatch()
        nudge_batch_send(receipt_ids=result.batches[0])
        path = re.search(r"https?://[^/\s]+(/checkin/[^\s]+/)", mailoutbox[0].body).group(1)
        response = client.get(path)
    assert response.status_code == 200 and b"Only KR" in response.content


def test_a_kr_switched_to_an_automatic_source_leaves_the_link_form(client, nudge):
    """A KR that a script or an integration feeds after the nudge went out is no longer asked for."""
    m, _, krs, url = nudge
    KeyResult.objects.filter(pk=krs[1].pk).update(data_source=KeyResult.DataSource.API)
    with time_machine.travel(MONDAY + timedelta(hours=2)):
        body = client.get(url).content.decode()
    assert "Increase NPS to 50" in body and "Grow revenue to 1M" not in body
