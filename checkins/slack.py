"""Slack incoming webhooks: validation of the URL an admin enters, and the HTTP post the retrying task makes.

Only https URLs on a Slack host are accepted (hooks.slack.com or *.slack.com), so the feature cannot be turned into
a server-side request forgery against our network. Tests point webhooks at a local HTTP server; they do so through
two settings that exist for that purpose only and are off by default:

- SLACK_WEBHOOK_EXTRA_HOSTS: extra host names accepted besides Slack's (tests: ["127.0.0.1"]);
- SLACK_ALLOW_INSECURE_FOR_TESTS: accept http:// for those extra hosts (never for Slack's own).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError

SLACK_HOST = "hooks.slack.com"
TIMEOUT = (3.05, 10)  # connect, read (seconds)
MAX_RETRY_AFTER = 15 * 60  # never sleep longer than this on a 429 (well under the broker's visibility timeout)


class SlackError(Exception):
    """Slack refused the post for good (4xx other than 429): retrying would not help."""


class SlackRetryable(SlackError):
    """429, 5xx or a connection problem: try again later (after `retry_after` seconds when Slack says so)."""

    def __init__(self, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def _extra_hosts() -> set[str]:
    return {h.lower() for h in getattr(settings, "SLACK_WEBHOOK_EXTRA_HOSTS", ())}


def slack_webhook_validate(url: str) -> str:
    """The cleaned URL, or ValidationError({"slack_webhook_url": …}). Empty means "no Slack"."""
    url = (url or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    is_slack = host == SLACK_HOST or host.endswith(".slack.com")
    is_test_host = host in _extra_hosts()
    insecure_ok = is_test_host and getattr(settings, "SLACK_ALLOW_INSECURE_FOR_TESTS", False)
    if parts.scheme != "https" and not (parts.scheme == "http" and insecure_ok):
        raise ValidationError({"slack_webhook_url": "The Slack webhook URL must start with https://."})
    if not (is_slack or is_test_host) or parts.username or parts.password:
        raise ValidationError(
            {"slack_webhook_url": "Use a Slack incoming-webhook URL (https://hooks.slack.com/services/…)."}
        )
    if len(url) > 300:
        raise ValidationError({"slack_webhook_url": "That URL is too long (at most 300 characters)."})
    return url


def slack_webhook_mask(url: str) -> str:
    """A hint that is safe to show or log: scheme, host and at most the first path segment, the rest hidden.

    "https://hooks.slack.com/services/T1/B2/secret" -> "https://hooks.slack.com/services/…/••••". The path after
    "/services/" is the secret part of an incoming webhook, so none of it is shown.
    """
    if not url:
        return ""
    parts = urlsplit(url)
    first = parts.path.lstrip("/").split("/", 1)[0]
    shown = f"{parts.scheme}://{parts.hostname or ''}" + (f"/{first}" if first else "")
    return f"{shown}/…/••••"


def _retry_after(response: requests.Response) -> int | None:
    try:
        return max(1, min(int(response.headers.get("Retry-After", "")), MAX_RETRY_AFTER))
    except ValueError:
        return None


def slack_post(*, url: str, payload: dict) -> None:
    """POST one message to a webhook. Raises SlackRetryable or SlackError; returns on 2xx."""
    try:
        slack_webhook_validate(url)  # the stored value is re-checked: never post to a non-Slack host
    except ValidationError as exc:
        raise SlackError(f"refusing to post to {slack_webhook_mask(url)}: {exc.messages[0]}") from None
    try:
        response = requests.post(url, json=payload, timeout=TIMEOUT, allow_redirects=False)
    except requests.RequestException as exc:
        raise SlackRetryable(f"Slack unreachable: {exc.__class__.__name__}") from None
    if response.status_code == 429 or response.status_code >= 500:
        raise SlackRetryable(f"Slack answered {response.status_code}", retry_after=_retry_after(response))
    if response.status_code >= 300:
        raise SlackError(f"Slack answered {response.status_code}: {response.text[:200]}")


def slack_post_enqueue(*, org_id: int | None = None, team_id: int | None = None, payload: dict) -> None:
    """Post to the org's (or the team's) webhook in the background: checkins.post_to_slack retries with backoff and
    email never waits for Slack. The queued message names the org or team, never the URL: the broker does not hold
    the secret, and a webhook removed (or replaced) before the post runs is honoured."""
    from checkins.tasks import post_to_slack

    assert (org_id is None) != (team_id is None)
    post_to_slack.delay_on_commit({"team": team_id} if team_id else {"org": org_id}, payload)


def slack_hook_url(target: str | dict) -> str:
    """The webhook URL a queued post goes to: {"org": id} / {"team": id} read now ("" when it was removed since); a
    plain URL string is what messages queued before this change carry."""
    if isinstance(target, str):
        return target
    from accounts.models import Organization, Team

    model, pk = (Team, target["team"]) if "team" in target else (Organization, target["org"])
    return model.objects.filter(pk=pk).values_list("slack_webhook_url", flat=True).first() or ""  # tenancy: by id
