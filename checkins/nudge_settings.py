"""Writes for an organization's check-in rhythm, reminders, Slack webhooks and digest timing (audited)."""

from __future__ import annotations

from django.db import transaction

from accounts.audit import audit_record
from accounts.models import Membership, Organization, Team
from checkins.schedule import memberships_reschedule
from checkins.slack import slack_webhook_validate

CHECKIN_SETTINGS = (
    "timezone",
    "checkin_weekday",
    "checkin_hour",
    "reminders_enabled",
    "slack_webhook_url",
    "digest_weekday",
    "digest_hour",
)
TIMING_FIELDS = {"timezone", "checkin_weekday", "checkin_hour"}


@transaction.atomic
def organization_update_checkin_settings(*, actor: Membership, ip: str | None = None, **fields) -> Organization:
    """Change the org's check-in settings. Timing changes re-schedule every member's next nudge at once."""
    org = Organization.objects.select_for_update().get(pk=actor.organization_id)
    unknown = set(fields) - set(CHECKIN_SETTINGS)
    if unknown:
        raise ValueError(f"Unknown settings: {sorted(unknown)}")
    if "slack_webhook_url" in fields:
        fields["slack_webhook_url"] = slack_webhook_validate(fields["slack_webhook_url"])
    diff = {k: [getattr(org, k), v] for k, v in fields.items() if getattr(org, k) != v}
    if not diff:
        return org
    for key, value in fields.items():
        setattr(org, key, value)
    org.full_clean(exclude=["slug", "name"])
    org.save(update_fields=list(diff))
    if TIMING_FIELDS & set(diff):
        # Members on the org defaults now have a different slot; overrides keep theirs but recomputing is cheap.
        memberships_reschedule(queryset=Membership.objects.for_org(org))
    if "slack_webhook_url" in diff:  # never write a webhook secret into the audit log
        diff["slack_webhook_url"] = [
            "set" if diff["slack_webhook_url"][0] else "",
            "set" if fields["slack_webhook_url"] else "",
        ]
    audit_record(org=org, actor=actor.user, verb="organization.checkin_settings_changed", target=org, diff=diff, ip=ip)
    actor.organization = org
    return org


@transaction.atomic
def team_set_slack_webhook(*, actor: Membership, team: Team, url: str, ip: str | None = None) -> Team:
    """Set or clear a team's Slack webhook (its members' nudges and the team digest go there instead of the org's)."""
    assert team.organization_id == actor.organization_id
    team.slack_webhook_url = slack_webhook_validate(url)
    team.save(update_fields=["slack_webhook_url", "updated_at"])
    audit_record(
        org=actor.organization,
        actor=actor.user,
        verb="team.slack_webhook_changed",
        target=team,
        diff={"slack_webhook_url": "set" if team.slack_webhook_url else "removed"},
        ip=ip,
    )
    return team
