"""Emailing the org's admins when an endpoint is switched off after repeated failures (webhooks.notifications):
driven by real failed deliveries against the local receiver, the task run from the on-commit callback."""

import functools
import re
from smtplib import SMTPException

import pytest
from celery import Task
from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

from accounts.models import Role
from checkins import services as checkin_services
from tests.factories import MembershipFactory
from webhooks.delivery import DISABLE_AFTER_FAILURES, webhook_delivery_send
from webhooks.models import Event, WebhookDelivery, WebhookEndpoint
from webhooks.services import webhook_endpoint_update, webhook_ping
from webhooks.tasks import notify_endpoint_disabled

TASK = "webhooks.notify_endpoint_disabled"


@pytest.fixture
def endpoint(make_endpoint, receiver):
    return make_endpoint(receiver.url, [Event.CHECKIN_CREATED], description="CRM sync")


@pytest.fixture
def fail(member, kr, receiver, django_capture_on_commit_callbacks):
    """fail(n) → emit and send n check-in deliveries the receiver answers 410; returns the notify tasks that were
    enqueued on commit, as (task, args), without running them."""
    values = iter(range(51, 99))

    def run(n: int) -> list[tuple[Task, tuple]]:
        receiver.answer(*[410] * n)
        enqueued = []
        for _ in range(n):
            with django_capture_on_commit_callbacks(execute=False):  # the delivery's own send task is not wanted
                checkin_services.checkin_submit(
                    org=member.organization, actor=member, key_result=kr, value=next(values)
                )
            delivery = WebhookDelivery.objects.order_by("-pk").first()
            with django_capture_on_commit_callbacks(execute=False) as callbacks:
                assert webhook_delivery_send(delivery_id=delivery.pk) == "failed"
            enqueued += _notify_tasks(callbacks)
        return enqueued

    return run


def _notify_tasks(callbacks) -> list[tuple[Task, tuple]]:
    """The notify tasks among on-commit callbacks (`partial(task.delay, *args)`)."""
    out = []
    for callback in callbacks:
        task = getattr(getattr(callback, "func", None), "__self__", None)
        if isinstance(callback, functools.partial) and isinstance(task, Task) and task.name == TASK:
            out.append((task, callback.args))
    return out


@pytest.fixture
def people(owner, admin, member, viewer, outsider, other_org, org):
    """Besides the usual cast: a second admin, a deactivated admin, and an admin of the other organization."""
    second = MembershipFactory(organization=org, role=Role.ADMIN, user__email="second-admin@acme.test")
    MembershipFactory(organization=org, role=Role.ADMIN, is_active=False, user__email="gone-admin@acme.test")
    MembershipFactory(organization=other_org, role=Role.ADMIN, user__email="admin@globex.test")
    return {"owner": owner, "admin": admin, "second": second}


def test_ten_failures_email_each_admin_and_owner_once(endpoint, fail, people, mailoutbox, client_for):
    assert fail(DISABLE_AFTER_FAILURES - 1) == []  # nothing before the switch-off
    assert mailoutbox == []
    (task_and_args,) = fail(1)
    task, args = task_and_args
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_notified_at is None
    assert args == (endpoint.organization_id, endpoint.pk, endpoint.disabled_at.isoformat())
    task(*args)

    assert sorted(m.to[0] for m in mailoutbox) == ["admin@acme.test", "owner@acme.test", "second-admin@acme.test"]
    assert all(len(m.to) == 1 and not m.cc and not m.bcc for m in mailoutbox)  # one message each: no address leaks
    message = next(m for m in mailoutbox if m.to == ["admin@acme.test"])
    assert message.subject == "[Acme] Webhook endpoint switched off: 127.0.0.1"
    html = message.alternatives[0][0]
    link = f"{settings.SITE_URL}/o/acme/settings/webhooks/#endpoint-{endpoint.public_id}"
    for text in (message.body, html):
        assert endpoint.url in text and "CRM sync" in text
        assert "Switched off automatically after 10 failed deliveries in a row" in text
        assert "(last: HTTP 410)" in text  # the last error is part of the reason
        assert endpoint.disabled_at.strftime("%H:%M") in text
        assert link in text
        assert endpoint.secret not in text and "whsec_" not in text
    endpoint.refresh_from_db()
    assert endpoint.disabled_notified_at is not None

    # The link opens the settings page, which shows the switch-off and its reason.
    path = re.search(r"https?://[^/\s]+(/o/acme/settings/webhooks/)", message.body).group(1)
    page = client_for(people["admin"]).get(path).content.decode()
    assert 'data-testid="auto-disabled"' in page and "after 10 failed deliveries in a row" in page


def test_running_the_task_twice_sends_once(endpoint, fail, people, mailoutbox):
    ((task, args),) = fail(DISABLE_AFTER_FAILURES)
    task(*args)
    task(*args)  # a redelivered message
    assert len(mailoutbox) == 3


def test_an_endpoint_switched_back_on_before_the_task_runs_gets_no_email(endpoint, fail, people, mailoutbox):
    ((task, args),) = fail(DISABLE_AFTER_FAILURES)
    endpoint.refresh_from_db()  # as the settings page loads it
    webhook_endpoint_update(org=endpoint.organization, actor=people["admin"], endpoint=endpoint, is_active=True)
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).is_active
    task(*args)
    assert mailoutbox == []
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).disabled_notified_at is None


def test_a_second_switch_off_is_notified_again_and_the_stale_task_sends_nothing(endpoint, fail, people, mailoutbox):
    ((task, first),) = fail(DISABLE_AFTER_FAILURES)
    task(*first)
    assert len(mailoutbox) == 3
    endpoint.refresh_from_db()
    webhook_endpoint_update(org=endpoint.organization, actor=people["admin"], endpoint=endpoint, is_active=True)
    ((task, second),) = fail(DISABLE_AFTER_FAILURES)
    assert second[2] != first[2]
    task(*first)  # the old switch-off's task, redelivered late
    assert len(mailoutbox) == 3
    task(*second)
    task(*second)
    assert len(mailoutbox) == 6


def test_an_endpoint_switched_off_by_hand_gets_no_email(
    endpoint, people, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        webhook_endpoint_update(org=endpoint.organization, actor=people["admin"], endpoint=endpoint, is_active=False)
    assert _notify_tasks(callbacks) == []


def test_the_task_for_another_org_sends_nothing(endpoint, fail, people, other_org, mailoutbox):
    ((task, args),) = fail(DISABLE_AFTER_FAILURES)
    task(other_org.pk, *args[1:])
    assert mailoutbox == []
    task(*args)
    assert len(mailoutbox) == 3


class _BrokenSMTP(BaseEmailBackend):
    def send_messages(self, messages):
        raise SMTPException("421 try again later")


def test_a_failed_send_releases_the_claim_so_the_retry_sends(endpoint, fail, people, mailoutbox, settings):
    ((task, args),) = fail(DISABLE_AFTER_FAILURES)
    backend = settings.EMAIL_BACKEND
    settings.EMAIL_BACKEND = f"{__name__}._BrokenSMTP"
    with pytest.raises(SMTPException):
        task(*args)  # called directly, autoretry re-raises (a worker would retry with backoff)
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).disabled_notified_at is None
    settings.EMAIL_BACKEND = backend
    task(*args)
    assert len(mailoutbox) == 3


def test_failed_pings_never_switch_off_nor_notify(
    endpoint, fail, receiver, people, mailoutbox, django_capture_on_commit_callbacks
):
    assert fail(DISABLE_AFTER_FAILURES - 1) == []
    for _ in range(3):
        receiver.answer(500)
        with django_capture_on_commit_callbacks(execute=False):
            ping = webhook_ping(org=endpoint.organization, actor=people["admin"], endpoint=endpoint)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            assert webhook_delivery_send(delivery_id=ping.pk) == "failed"
        assert _notify_tasks(callbacks) == []
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.consecutive_failures == DISABLE_AFTER_FAILURES - 1
    assert mailoutbox == []


def test_notify_task_is_registered_on_the_default_queue():
    from okrapp.celery import app

    assert notify_endpoint_disabled.name == TASK
    assert app.amqp.router.route({}, TASK)["queue"].name == "celery"


def test_the_sweeper_sends_a_notification_whose_publish_was_lost(endpoint, fail, people, mailoutbox, eager_celery):
    from datetime import timedelta

    import time_machine

    from webhooks.delivery import NOTIFY_SWEEP_AFTER, NOTIFY_SWEEP_WINDOW, webhook_deliveries_sweep

    fail(DISABLE_AFTER_FAILURES)  # the on-commit publish never happens: as if the broker was down at that moment
    endpoint.refresh_from_db()
    webhook_deliveries_sweep()  # too early: the original task may still be on its way
    assert mailoutbox == []
    with time_machine.travel(endpoint.disabled_at + NOTIFY_SWEEP_AFTER + timedelta(seconds=1)):
        webhook_deliveries_sweep()
        assert len(mailoutbox) == 3
        webhook_deliveries_sweep()  # told once: later sweeps find nothing to do
    assert len(mailoutbox) == 3
    # A switch-off older than the window is left alone (the settings page still shows it).
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(disabled_notified_at=None)
    with time_machine.travel(endpoint.disabled_at + NOTIFY_SWEEP_WINDOW + timedelta(minutes=1)):
        webhook_deliveries_sweep()
    assert len(mailoutbox) == 3
