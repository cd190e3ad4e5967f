"""Slack webhooks: URL validation, retries with backoff against a local HTTP server, never blocking email."""

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.core.exceptions import ValidationError

from accounts.models import Membership
from checkins.nudge_dispatch import nudges_dispatch
from checkins.nudge_send import nudge_batch_send
from checkins.slack import slack_webhook_validate
from checkins.tasks import post_to_slack
from tests.checkins.nudge_helpers import make_kr, make_member


class FakeSlack:
    """A local HTTP server answering a scripted list of statuses (then 200); records the JSON bodies."""

    def __init__(self, statuses=(), headers=None):
        self.statuses = list(statuses)
        self.headers = headers or {}
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fake.requests.append(json.loads(body))
                status = fake.statuses.pop(0) if fake.statuses else 200
                self.send_response(status)
                for k, v in fake.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"error")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/T000/B000/XXXX"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def local_slack_allowed(settings):
    # The only way tests reach a non-Slack host: documented test-only settings in checkins/slack.py.
    settings.SLACK_WEBHOOK_EXTRA_HOSTS = ["127.0.0.1"]
    settings.SLACK_ALLOW_INSECURE_FOR_TESTS = True


@pytest.fixture
def fake_slack(local_slack_allowed):
    servers = []

    def make(*statuses, headers=None):
        s = FakeSlack(statuses, headers)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.close()


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.slack.com/services/T1/B2/abc",
        "https://acme.slack.com/services/x",
        "",
    ],
)
def test_slack_urls_accepted(url):
    assert slack_webhook_validate(url) == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.slack.com/services/T1/B2/abc", "https://"),
        ("https://hooks.slack.com.evil.example/services/x", "Slack incoming-webhook"),
        ("https://example.com/hooks.slack.com", "Slack incoming-webhook"),
        ("https://user:pw@hooks.slack.com/services/x", "Slack incoming-webhook"),
        ("https://127.0.0.1/services/x", "Slack incoming-webhook"),
        ("ftp://hooks.slack.com/x", "https://"),
    ],
)
def test_non_slack_urls_rejected(url, message):
    with pytest.raises(ValidationError) as exc:
        slack_webhook_validate(url)
    assert message in exc.value.message_dict["slack_webhook_url"][0]


def test_local_http_host_is_rejected_without_the_test_settings(settings):
    settings.SLACK_WEBHOOK_EXTRA_HOSTS = ["127.0.0.1"]
    with pytest.raises(ValidationError):
        slack_webhook_validate("http://127.0.0.1:8080/x")  # http only with SLACK_ALLOW_INSECURE_FOR_TESTS


def test_post_retries_500_then_succeeds(fake_slack):
    slack = fake_slack(500)
    result = post_to_slack.apply(args=[slack.url, {"text": "hello"}])  # eager: retries run inline
    assert result.successful()
    assert slack.requests == [{"text": "hello"}, {"text": "hello"}]


def test_post_honours_retry_after_on_429(fake_slack):
    from checkins.slack import SlackRetryable, slack_post

    slack = fake_slack(429, headers={"Retry-After": "30"})
    with pytest.raises(SlackRetryable) as exc:
        slack_post(url=slack.url, payload={"text": "hi"})
    assert exc.value.retry_after == 30  # the task retries with countdown=retry_after
    result = post_to_slack.apply(args=[slack.url, {"text": "hi"}])
    assert result.successful() and len(slack.requests) == 2


def test_post_gives_up_after_max_retries_when_slack_stays_down(fake_slack):
    slack = fake_slack(*([503] * 20))
    result = post_to_slack.apply(args=[slack.url, {"text": "hi"}])
    assert result.failed()
    assert len(slack.requests) == post_to_slack.max_retries + 1


def test_4xx_is_not_retried(fake_slack):
    slack = fake_slack(404)
    result = post_to_slack.apply(args=[slack.url, {"text": "hi"}])
    assert result.successful()  # dropped with a warning: retrying a revoked webhook won't help
    assert len(slack.requests) == 1


def test_connection_refused_is_retried_then_fails(local_slack_allowed):
    from tests.checkins.worker_harness import free_port

    result = post_to_slack.apply(args=[f"http://127.0.0.1:{free_port()}/x", {"text": "hi"}])
    assert result.failed()


@pytest.fixture
def eager_celery():
    """Run enqueued tasks inline (for this test only; never globally, STYLE.md c.10)."""
    from okrapp.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.mark.parametrize(("statuses", "delivered"), [([500] * 20, False), ([500], True)])
def test_nudges_post_to_slack_and_slack_down_never_blocks_email(
    org, fake_slack, mailoutbox, eager_celery, django_capture_on_commit_callbacks, statuses, delivered
):
    slack = fake_slack(*statuses)
    org.slack_webhook_url = slack.url
    org.save()
    m = make_member(org, email="nudged@acme.test", user__name="Nora Nudged")
    make_kr(m)
    now = datetime(2026, 6, 1, 9, tzinfo=UTC)
    Membership.objects.filter(pk=m.pk).update(next_nudge_at=now - timedelta(minutes=1))
    with time_machine.travel(now, tick=False):
        with django_capture_on_commit_callbacks(execute=False):
            result = nudges_dispatch()
        with django_capture_on_commit_callbacks(execute=True):
            outcome = nudge_batch_send(receipt_ids=result.batches[0])
    assert outcome.sent == 1 and len(mailoutbox) == 1  # email is never held up by Slack
    if delivered:
        assert len(slack.requests) == 2 and "Nora Nudged" in slack.requests[-1]["text"]
    else:
        assert len(slack.requests) == post_to_slack.max_retries + 1  # retried, then given up


def test_team_webhook_takes_precedence(
    org, other_org, fake_slack, eager_celery, django_capture_on_commit_callbacks, mailoutbox
):
    from accounts.models import Team, TeamMember
    from checkins.nudge_send import _post_nudges_to_slack

    org_hook, team_hook, other_hook = fake_slack(), fake_slack(), fake_slack()
    org.slack_webhook_url = org_hook.url
    org.save()
    other_org.slack_webhook_url = other_hook.url
    other_org.save()
    team = Team.objects.create(organization=org, name="Core", slack_webhook_url=team_hook.url)
    Team.objects.create(organization=org, name="No hook")  # "" is skipped by exclude(team__slack_webhook_url="")
    a = make_member(org, email="a@acme.test", user__name="Ann")
    b = make_member(org, email="b@acme.test", user__name="Bob")
    c = make_member(other_org, email="c@other.test", user__name="Cyd")
    TeamMember.objects.create(organization=org, team=team, membership=a)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _post_nudges_to_slack([a, b, c])
    assert len(callbacks) == 3
    # Each URL was read back decrypted from its encrypted column and got exactly its own people.
    assert [r["text"].split(": ")[1].split(".")[0] for r in team_hook.requests] == ["Ann"]
    assert [r["text"].split(": ")[1].split(".")[0] for r in org_hook.requests] == ["Bob"]
    assert [r["text"].split(": ")[1].split(".")[0] for r in other_hook.requests] == ["Cyd"]


def test_digest_posts_to_the_team_and_org_webhooks(
    org, admin, fake_slack, eager_celery, django_capture_on_commit_callbacks, mailoutbox
):
    from accounts.models import Team, TeamMember
    from checkins.digest import digests_send_due

    org_hook, team_hook = fake_slack(), fake_slack()
    org.slack_webhook_url = org_hook.url
    org.save()
    team = Team.objects.create(organization=org, name="Growth", slack_webhook_url=team_hook.url)
    Team.objects.create(organization=org, name="Quiet")  # no webhook: nothing posted for it
    m = make_member(org, email="m@acme.test")
    TeamMember.objects.create(organization=org, team=team, membership=m)
    kr = make_kr(m)
    kr.objective.team = team
    kr.objective.save()
    monday_8 = datetime(2026, 6, 15, 8, 5, tzinfo=UTC)  # the org's default digest time
    with time_machine.travel(monday_8, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert digests_send_due() >= 1
    assert [r["text"].split(":")[0] for r in team_hook.requests] == [f"Weekly OKR digest, {org.name} / Growth"]
    assert [r["text"].split(":")[0] for r in org_hook.requests] == [f"Weekly OKR digest for {org.name}"]


def test_a_refused_post_does_not_log_the_webhook_url(settings):
    from checkins.slack import SlackError, slack_post

    settings.SLACK_WEBHOOK_EXTRA_HOSTS = []
    with pytest.raises(SlackError) as exc:
        slack_post(url="http://127.0.0.1:9/services/T1/B2/secret", payload={"text": "x"})
    assert "secret" not in str(exc.value) and "T1" not in str(exc.value)
    assert "http://127.0.0.1/services/…/••••" in str(exc.value)


# --- The queue carries a reference, not the secret URL -------------------------------------------------------------
def test_a_queued_post_names_the_org_or_team_and_never_carries_the_url(
    org, fake_slack, django_capture_on_commit_callbacks
):
    """What Celery puts on the real Redis broker for a nudge's Slack post: the task's arguments name the org (or the
    team); the URL (a secret, encrypted at rest) never reaches the broker."""
    import base64

    import redis
    from django.conf import settings as django_settings

    from accounts.models import Team, TeamMember
    from checkins.nudge_send import _post_nudges_to_slack
    from okrapp.celery import app

    org_hook, team_hook = fake_slack(), fake_slack()
    org.slack_webhook_url = org_hook.url
    org.save()
    team = Team.objects.create(organization=org, name="Core", slack_webhook_url=team_hook.url)
    a = make_member(org, email="a@acme.test", user__name="Ann")
    b = make_member(org, email="b@acme.test", user__name="Bob")
    TeamMember.objects.create(organization=org, team=team, membership=a)
    broker = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    broker.delete("celery")
    with django_capture_on_commit_callbacks(execute=True):
        _post_nudges_to_slack([a, b])
    messages = [json.loads(raw) for raw in broker.lrange("celery", 0, -1)]
    broker.delete("celery")
    raw_bodies = [base64.b64decode(m["body"]).decode() for m in messages]
    assert sorted(json.dumps(json.loads(body)[0][0]) for body in raw_bodies) == sorted(
        [json.dumps({"team": team.pk}), json.dumps({"org": org.pk})]
    )
    assert all(m["headers"]["task"] == "checkins.post_to_slack" for m in messages)
    everything = json.dumps(messages) + "".join(raw_bodies)
    for hook in (org_hook, team_hook):
        assert hook.url not in everything and hook.url.split("://", 1)[1] not in everything
    assert app.conf.task_always_eager is False  # they really were published, not run inline


def test_the_post_reads_the_url_when_it_runs_and_honours_a_removed_or_replaced_webhook(org, fake_slack):
    from accounts.models import Team

    old, new = fake_slack(), fake_slack()
    team = Team.objects.create(organization=org, name="Core", slack_webhook_url=old.url)
    team.slack_webhook_url = new.url  # replaced after the post was queued
    team.save()
    assert post_to_slack.apply(args=[{"team": team.pk}, {"text": "hi team"}]).successful()
    org.slack_webhook_url = ""  # removed after the post was queued
    org.save()
    assert post_to_slack.apply(args=[{"org": org.pk}, {"text": "hi org"}]).successful()
    assert old.requests == [] and new.requests == [{"text": "hi team"}]
