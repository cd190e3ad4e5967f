"""The org's check-in settings page (ADMIN): rhythm, reminders, Slack URL, digest day, test nudge."""

from datetime import UTC, datetime

import time_machine
from django.urls import reverse

from accounts.models import AuditEvent, Team
from checkins.models import CheckinNudge
from tests.checkins.nudge_helpers import make_kr

GOOD = {
    "timezone": "Europe/Berlin",
    "checkin_weekday": "2",
    "checkin_hour": "10",
    "reminders_enabled": "on",
    "slack_webhook_url": "https://hooks.slack.com/services/T1/B2/secret",
    "digest_weekday": "4",
    "digest_hour": "16",
}


def url(org, name="org_settings"):
    return reverse(f"nudges:{name}", args=[org.slug])


def test_admin_sees_the_settings(client_for, admin):
    response = client_for(admin).get(url(admin.organization))
    assert response.status_code == 200
    assert b"Check-in settings" in response.content and b"Send me a test nudge" in response.content


def test_saving_updates_org_and_reschedules_members(client_for, admin, member):
    with time_machine.travel(datetime(2026, 6, 1, 12, tzinfo=UTC), tick=False):
        response = client_for(admin).post(url(admin.organization), GOOD)
    assert response.status_code == 302
    org = admin.organization
    org.refresh_from_db()
    assert (org.timezone, org.checkin_weekday, org.checkin_hour) == ("Europe/Berlin", 2, 10)
    assert org.slack_webhook_url.startswith("https://hooks.slack.com/")
    assert (org.digest_weekday, org.digest_hour, org.reminders_enabled) == (4, 16, True)
    member.refresh_from_db()
    assert member.next_nudge_at == datetime(2026, 6, 3, 8, tzinfo=UTC)  # Wed 10:00 CEST
    event = AuditEvent.objects.get(verb="organization.checkin_settings_changed")
    assert "secret" not in str(event.diff)


def test_the_stored_slack_url_is_never_rendered_only_a_masked_hint(client_for, admin):
    org = admin.organization
    org.slack_webhook_url = GOOD["slack_webhook_url"]
    org.save()
    Team.objects.create(
        organization=org, name="Core", slack_webhook_url="https://hooks.slack.com/services/T9/B9/teamkey"
    )
    response = client_for(admin).get(url(org))
    assert response.status_code == 200
    html = response.content.decode()
    assert "T1/B2" not in html and "secret" not in html and "T9/B9" not in html and "teamkey" not in html
    assert "Slack is connected (https://hooks.slack.com/services/…/••••)" in html
    assert 'name="slack_webhook_url"' in html and 'value="https://' not in html  # the input starts blank
    assert 'name="remove_slack"' in html
    assert html.count("Slack connected") == 1  # the team's chip


def test_without_slack_there_is_nothing_to_remove(client_for, admin):
    html = client_for(admin).get(url(admin.organization)).content.decode()
    assert 'name="slack_webhook_url"' in html and 'name="remove_slack"' not in html
    assert "Slack is connected" not in html


def test_a_blank_slack_field_keeps_the_current_url(client_for, admin):
    org = admin.organization
    org.slack_webhook_url = GOOD["slack_webhook_url"]
    org.save()
    response = client_for(admin).post(url(org), {**GOOD, "slack_webhook_url": "", "checkin_hour": "11"})
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.slack_webhook_url == GOOD["slack_webhook_url"] and org.checkin_hour == 11
    event = AuditEvent.objects.get(verb="organization.checkin_settings_changed")
    assert "slack_webhook_url" not in event.diff


def test_a_new_slack_url_replaces_the_current_one(client_for, admin):
    org = admin.organization
    org.slack_webhook_url = GOOD["slack_webhook_url"]
    org.save()
    new = "https://hooks.slack.com/services/T1/B3/other"
    assert client_for(admin).post(url(org), {**GOOD, "slack_webhook_url": new}).status_code == 302
    org.refresh_from_db()
    assert org.slack_webhook_url == new
    event = AuditEvent.objects.get(verb="organization.checkin_settings_changed")
    assert event.diff["slack_webhook_url"] == ["set", "set"] and "other" not in str(event.diff)


def test_remove_slack_disconnects_it(client_for, admin):
    org = admin.organization
    org.slack_webhook_url = GOOD["slack_webhook_url"]
    org.save()
    response = client_for(admin).post(url(org), {**GOOD, "slack_webhook_url": "", "remove_slack": "on"})
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.slack_webhook_url == ""
    event = AuditEvent.objects.get(verb="organization.checkin_settings_changed")
    assert event.diff["slack_webhook_url"] == ["set", ""]
    assert 'name="remove_slack"' not in client_for(admin).get(url(org)).content.decode()


def test_a_new_url_and_remove_together_is_a_form_error(client_for, admin):
    org = admin.organization
    org.slack_webhook_url = GOOD["slack_webhook_url"]
    org.save()
    response = client_for(admin).post(url(org), {**GOOD, "remove_slack": "on"})
    assert response.status_code == 422
    assert b"Either paste a new URL or disconnect Slack, not both." in response.content
    org.refresh_from_db()
    assert org.slack_webhook_url == GOOD["slack_webhook_url"]


def test_non_slack_webhook_is_a_form_error(client_for, admin):
    response = client_for(admin).post(url(admin.organization), {**GOOD, "slack_webhook_url": "http://evil.example/x"})
    assert response.status_code == 422
    assert b"must start with https://" in response.content
    admin.organization.refresh_from_db()
    assert admin.organization.slack_webhook_url == ""


def test_invalid_choices_are_form_errors(client_for, admin):
    response = client_for(admin).post(url(admin.organization), {**GOOD, "checkin_hour": "25", "timezone": "Mars/Base"})
    assert response.status_code == 422
    assert response.content.count(b"Select a valid choice") == 2


def test_team_webhook(client_for, admin):
    team = Team.objects.create(organization=admin.organization, name="Core")
    ok = client_for(admin).post(
        url(admin.organization, "team_slack"),
        {"team": team.pk, "slack_webhook_url": "https://hooks.slack.com/services/T/B/x"},
    )
    assert ok.status_code == 302
    team.refresh_from_db()
    assert team.slack_webhook_url
    bad = client_for(admin).post(
        url(admin.organization, "team_slack"), {"team": team.pk, "slack_webhook_url": "https://example.com/x"}
    )
    assert bad.status_code == 422


def test_team_of_another_org_is_not_a_choice(client_for, admin, other_org):
    theirs = Team.objects.create(organization=other_org, name="Theirs")
    response = client_for(admin).post(
        url(admin.organization, "team_slack"), {"team": theirs.pk, "slack_webhook_url": ""}
    )
    assert response.status_code == 422
    assert b"Select a valid choice" in response.content


def test_member_cannot_open_settings(client_for, member):
    assert client_for(member).get(url(member.organization)).status_code == 403
    assert client_for(member).post(url(member.organization, "test_nudge")).status_code == 403


def test_settings_of_other_org_is_404(client_for, admin, other_org):
    assert client_for(admin).get(url(other_org)).status_code == 404
    assert client_for(admin).post(url(other_org), GOOD).status_code == 404


def test_test_nudge_is_enqueued_and_does_not_use_the_weekly_receipt(
    client_for, admin, mailoutbox, django_capture_on_commit_callbacks
):
    make_kr(admin, title="Admin's own KR")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(admin).post(url(admin.organization, "test_nudge"), follow=True)
    assert response.status_code == 200
    assert b"test nudge is on its way" in response.content
    assert len(callbacks) == 1  # enqueued on commit
    from checkins.tasks import send_test_nudge

    send_test_nudge(admin.pk)  # what the worker runs
    (message,) = mailoutbox
    assert message.subject.startswith("[Test]") and "Admin's own KR" in message.body
    assert "/my-week/" in message.body
    assert CheckinNudge.objects.count() == 0


def test_team_slack_picker_asks_to_choose_a_team(client_for, admin):
    Team.objects.create(organization=admin.organization, name="Growth")
    html = client_for(admin).get(url(admin.organization)).content.decode()
    assert "— choose a team —" in html and "---------" not in html
