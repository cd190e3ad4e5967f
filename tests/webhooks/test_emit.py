"""Emission: the write services put one delivery per subscribed endpoint in their own transaction (outbox), and
the send is enqueued only after commit. Orgs without endpoints pay no SQL."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from checkins import services as checkin_services
from checkins.models import CheckinNudge
from initiatives import services as initiative_services
from initiatives.models import Initiative
from objectives import services as okr_services
from objectives.models import KeyResult, Objective
from tests.checkins.checkin_helpers import make_initiative, make_kr
from tests.factories import MembershipFactory
from tests.factories_okr import CycleFactory
from tests.webhooks.conftest import verify
from webhooks.models import Event, WebhookDelivery
from webhooks.services import webhook_emit, webhook_endpoint_delete, webhook_endpoint_update
from webhooks.subscriptions import subscribed_event_types, subscriptions_changed


def deliveries(**filters):
    return list(WebhookDelivery.objects.filter(**filters).order_by("pk"))


def test_checkin_submit_sends_exactly_one_signed_delivery_after_commit(
    member, kr, make_endpoint, receiver, eager_celery, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(receiver.url, [Event.CHECKIN_CREATED])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        checkin = checkin_services.checkin_submit(
            org=member.organization, actor=member, key_result=kr, value="62.5", confidence=7, comment="good week"
        )
        (delivery,) = deliveries()  # written in the check-in's transaction ...
        assert receiver.requests == []  # ... and nothing is sent before commit
    assert len(callbacks) == 1  # the send
    assert receiver.wait_for(1) == 1
    (request,) = receiver.requests
    headers, body = request["headers"], request["json"]
    assert verify(endpoint.secret, headers["X-Okrapp-Signature"], request["body"])
    assert headers["X-Okrapp-Event"] == "checkin.created"
    assert headers["X-Okrapp-Delivery"] == str(delivery.public_id)
    assert headers["Content-Type"] == "application/json"
    assert list(body) == ["id", "type", "created_at", "organization", "data"]
    assert body["id"] == str(delivery.event_id) and body["type"] == "checkin.created"
    assert body["organization"] == {"slug": member.organization.slug}
    data = body["data"]
    assert data["check_in"] == {
        "id": str(checkin.public_id),
        "value": "62.5",
        "confidence": 7,
        "comment": "good week",
        "week_start": checkin.week_start.isoformat(),
        "is_late": checkin.is_late,
        "created_at": data["check_in"]["created_at"],
    }
    assert data["key_result"]["id"] == str(kr.public_id) and data["key_result"]["title"] == kr.title
    assert (data["key_result"]["previous_value"], data["key_result"]["current"]) == ("50", "62.5")
    assert data["key_result"]["progress"] == 0.625 and data["key_result"]["confidence"] == 7
    assert data["objective"] == {"id": str(kr.objective.public_id), "title": kr.objective.title}
    assert data["author"] == {"id": str(member.public_id), "name": member.user.display_name}
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED and delivery.attempts == 1
    assert delivery.last_status_code == 200


def test_payload_never_carries_database_keys(member, kr, make_endpoint, receiver):
    make_endpoint(receiver.url)
    checkin_services.checkin_submit(org=member.organization, actor=member, key_result=kr, value=70)
    (delivery,) = deliveries()

    def walk(value, path="data"):
        if isinstance(value, dict):
            for key, item in value.items():
                assert key not in ("pk", "organization_id", "key_result_id"), path
                walk(item, f"{path}.{key}")
        elif isinstance(value, int) and not isinstance(value, bool):
            assert path.endswith(("confidence", "progress")), f"{path} is a bare integer"

    walk(delivery.payload["data"])
    assert delivery.payload["data"]["key_result"]["id"] == str(kr.public_id)


def test_a_rolled_back_write_leaves_no_delivery_and_enqueues_nothing(
    member, kr, make_endpoint, receiver, django_capture_on_commit_callbacks
):
    make_endpoint(receiver.url)
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        checkin_services.checkin_submit(org=member.organization, actor=member, key_result=kr, value=70)
        assert len(deliveries()) == 1
        raise RuntimeError("the request failed later")
    assert deliveries() == []
    assert len(callbacks) == 0


def test_only_active_endpoints_of_the_org_subscribed_to_the_event_get_it(
    member, kr, make_endpoint, receiver, other_org
):
    wanted = make_endpoint(receiver.url + "/a", [Event.CHECKIN_CREATED, Event.OBJECTIVE_STATUS_CHANGED])
    also = make_endpoint(receiver.url + "/b")
    make_endpoint(receiver.url + "/c", [Event.INITIATIVE_STATUS_CHANGED])
    paused = make_endpoint(receiver.url + "/d")
    webhook_endpoint_update(org=paused.organization, actor=paused.created_by, endpoint=paused, is_active=False)
    make_endpoint(receiver.url, org=other_org)
    checkin_services.checkin_submit(org=member.organization, actor=member, key_result=kr, value=70)
    rows = deliveries()
    assert {d.endpoint_id for d in rows} == {wanted.pk, also.pk}
    assert len({d.event_id for d in rows}) == 1  # one event, one delivery (and delivery id) per endpoint
    assert all(d.organization_id == member.organization_id for d in rows)


def test_no_endpoints_no_sql_once_the_answer_is_cached(org):
    with CaptureQueriesContext(connection) as cold:
        assert webhook_emit(org=org, event_type=Event.CHECKIN_CREATED, data={}) == []
    assert len(cold.captured_queries) == 1  # the endpoints, once
    with CaptureQueriesContext(connection) as warm:
        for _ in range(3):
            webhook_emit(org=org, event_type=Event.CHECKIN_CREATED, data=lambda: pytest.fail("built for nobody"))
    assert warm.captured_queries == []


def test_a_batch_of_check_ins_looks_the_subscriptions_up_once(member, make_endpoint, receiver):
    make_endpoint(receiver.url, [Event.CHECKIN_CREATED])
    krs = [make_kr(member, title=f"KR {n}") for n in range(3)]
    rows = [checkin_services.CheckinRow(key_result=k, value=60 + n) for n, k in enumerate(krs)]
    subscriptions_changed(member.organization.pk)  # an uncommitted change: every lookup must read the database
    with CaptureQueriesContext(connection) as ctx:
        checkin_services.checkin_submit_many(org=member.organization, actor=member, checkins=rows)
    reads = [q for q in ctx.captured_queries if 'FROM "webhooks_webhookendpoint"' in q["sql"]]
    assert len(reads) == 1  # once for the batch, not once per row
    assert len(deliveries()) == 3


def test_endpoint_changes_are_seen_at_once(member, kr, make_endpoint, receiver, django_capture_on_commit_callbacks):
    org = member.organization
    assert subscribed_event_types(org.pk) == frozenset()  # cached: nobody listens
    with django_capture_on_commit_callbacks(execute=True):
        endpoint = make_endpoint(receiver.url, [Event.INITIATIVE_STATUS_CHANGED])
    checkin_services.checkin_submit(org=org, actor=member, key_result=kr, value=60)
    assert deliveries() == []
    with django_capture_on_commit_callbacks(execute=True):
        webhook_endpoint_update(org=org, actor=endpoint.created_by, endpoint=endpoint, events=[Event.CHECKIN_CREATED])
    checkin_services.checkin_submit(org=org, actor=member, key_result=kr, value=61)
    assert len(deliveries()) == 1
    with django_capture_on_commit_callbacks(execute=True):
        webhook_endpoint_delete(org=org, actor=endpoint.created_by, endpoint=endpoint)
    with CaptureQueriesContext(connection) as ctx:
        assert webhook_emit(org=org, event_type=Event.CHECKIN_CREATED, data={}) == []
    assert not any("INSERT" in q["sql"] for q in ctx.captured_queries)


def test_a_change_not_yet_committed_makes_readers_use_the_database(org, django_assert_num_queries):
    subscribed_event_types(org.pk)  # cached
    with django_assert_num_queries(0):
        subscribed_event_types(org.pk)
    subscriptions_changed(org.pk)  # inside a transaction: dirty until its on_commit runs (never, in this test)
    with django_assert_num_queries(1):
        subscribed_event_types(org.pk)
    with django_assert_num_queries(1):
        subscribed_event_types(org.pk)  # and a dirty version is never cached under


def test_api_check_in_adds_one_insert_when_someone_listens(member, kr, make_endpoint, receiver, api_client_for):
    make_endpoint(receiver.url)
    api = api_client_for(member)
    url = f"/api/v1/o/{member.organization.slug}/key-results/{kr.public_id}/check-ins"
    assert api.post(url, {"value": 55}, format="json").status_code == 201
    with CaptureQueriesContext(connection) as ctx:
        assert api.post(url, {"value": 56, "confidence": 6}, format="json").status_code == 201
    statements = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    # token, KR FOR UPDATE, check-in INSERT, KR UPDATE, audit INSERT, + the deliveries INSERT … SELECT
    assert len(statements) == 6, statements
    assert statements[-1].startswith("\nINSERT INTO webhooks_webhookdelivery")
    assert [d.payload["data"]["check_in"]["value"] for d in deliveries()] == ["55", "56"]


def test_my_week_form_sends_one_event_per_check_in_and_initiative_status(client_for, member, make_endpoint, receiver):
    make_endpoint(receiver.url)
    with time_machine.travel(datetime(2026, 5, 13, 12, tzinfo=UTC), tick=False):
        first, second = make_kr(member, title="A"), make_kr(member, title="B")
        initiative = make_initiative(first, owner=member, status=Initiative.Status.IN_PROGRESS, progress=20)
        data = {}
        for k, value in ((first, "60"), (second, "70")):
            data |= {
                f"kr-{k.public_id}-value": value,
                f"kr-{k.public_id}-confidence": "",
                f"kr-{k.public_id}-comment": "",
            }
        data |= {f"in-{initiative.public_id}-status": "blocked", f"in-{initiative.public_id}-progress": "20"}
        response = client_for(member).post(reverse("checkins:my_week", args=[member.organization.slug]), data)
    assert response.status_code in (200, 302)
    rows = deliveries()
    assert sorted(d.event_type for d in rows) == ["checkin.created", "checkin.created", "initiative.status_changed"]
    change = next(d for d in rows if d.event_type == "initiative.status_changed").payload["data"]
    assert (change["old_status"], change["new_status"]) == ("in_progress", "blocked")
    assert change["initiative"]["id"] == str(initiative.public_id)
    assert change["key_result"]["id"] == str(first.public_id)


def test_nudge_link_check_in_sends_the_event(client, org, make_endpoint, receiver):
    from checkins.links import nudge_link_token
    from tests.checkins.nudge_helpers import make_kr as nudge_kr
    from tests.checkins.nudge_helpers import make_member

    make_endpoint(receiver.url, [Event.CHECKIN_CREATED])
    monday = datetime(2026, 6, 1, 9, tzinfo=UTC)
    m = make_member(org)
    key_result = nudge_kr(m, current=30)
    receipt = CheckinNudge.objects.create(
        organization=org, membership=m, week_start=monday.date(), kind="nudge", sent_at=monday, channels=["email"]
    )
    with time_machine.travel(monday, tick=False):
        token = nudge_link_token(receipt=receipt, key_result_ids=[key_result.pk])
        response = client.post(
            reverse("nudge_checkin", args=[token]), {f"{key_result.public_id}-value": "35"}, follow=False
        )
    assert response.status_code == 200
    (delivery,) = deliveries()
    assert delivery.payload["data"]["key_result"]["current"] == "35"
    assert delivery.payload["data"]["author"]["id"] == str(m.public_id)


# --- Status changes ---------------------------------------------------------------------------------------------------
@pytest.fixture
def listening(make_endpoint, receiver):
    return make_endpoint(receiver.url)


def by_type(event_type):
    return [d.payload["data"] for d in deliveries(event_type=event_type)]


def test_publish_sends_objective_and_key_result_status_changes(org, admin, member, listening):
    cycle = CycleFactory(organization=org)
    objective = okr_services.objective_create(org=org, actor=member, cycle=cycle, title="Delight", level="company")
    kr = okr_services.key_result_create(
        org=org, actor=member, objective=objective, title="NPS", target=50, owner=member
    )
    okr_services.objective_publish(org=org, actor=member, objective=objective)
    (obj_event,) = by_type("objective.status_changed")
    assert (obj_event["old_status"], obj_event["new_status"]) == ("draft", "active")
    assert obj_event["objective"]["id"] == str(objective.public_id)
    assert obj_event["objective"]["cycle"] == {"id": str(cycle.public_id), "name": cycle.name}
    assert obj_event["actor"]["id"] == str(member.public_id)
    (kr_event,) = by_type("key_result.status_changed")
    assert (kr_event["key_result"]["id"], kr_event["old_status"], kr_event["new_status"]) == (
        str(kr.public_id),
        "draft",
        "active",
    )
    okr_services.objective_publish(org=org, actor=member, objective=objective)  # nothing left to publish
    assert len(deliveries()) == 2


def test_close_and_archive_send_status_changes_with_scores(org, member, listening):
    kr = make_kr(member, baseline=0, target=100, current=80)
    objective = kr.objective
    okr_services.objective_close(org=org, actor=member, objective=objective, retrospective="ok")
    (obj_event,) = by_type("objective.status_changed")
    assert (obj_event["old_status"], obj_event["new_status"]) == ("active", "closed")
    (kr_event,) = by_type("key_result.status_changed")
    assert (kr_event["old_status"], kr_event["new_status"], kr_event["key_result"]["score"]) == (
        "active",
        "closed",
        "0.8",
    )
    okr_services.objective_archive(org=org, actor=member, objective=Objective.objects.get(pk=objective.pk))
    assert [e["new_status"] for e in by_type("objective.status_changed")] == ["closed", "archived"]
    okr_services.objective_archive(org=org, actor=member, objective=Objective.objects.get(pk=objective.pk))
    assert len(by_type("objective.status_changed")) == 2  # no change, no event


def test_key_result_activate_sends_its_change(org, member, listening):
    kr = make_kr(member, status=KeyResult.Status.DRAFT)
    okr_services.key_result_activate(org=org, actor=member, key_result=kr)
    (event,) = by_type("key_result.status_changed")
    assert (event["old_status"], event["new_status"]) == ("draft", "active")
    assert event["objective"]["id"] == str(kr.objective.public_id)


def test_initiative_status_change_is_sent_and_other_edits_are_not(org, member, listening):
    initiative = make_initiative(make_kr(member), owner=member, status=Initiative.Status.IN_PROGRESS, progress=40)
    initiative_services.initiative_update(org=org, actor=member, initiative=initiative, title="Renamed")
    assert by_type("initiative.status_changed") == []
    initiative_services.initiative_update(org=org, actor=member, initiative=initiative, status="done")
    (event,) = by_type("initiative.status_changed")
    assert (event["old_status"], event["new_status"]) == ("in_progress", "done")
    assert event["initiative"]["progress"] == 100  # done means 100 %


def test_decimal_values_keep_their_precision(member, listening):
    kr = make_kr(member, baseline=Decimal("0.5"), target=Decimal("1.25"), current=Decimal("0.5"))
    checkin_services.checkin_submit(org=member.organization, actor=member, key_result=kr, value="1.0625")
    data = by_type("checkin.created")[0]
    assert (data["check_in"]["value"], data["key_result"]["baseline"], data["key_result"]["target"]) == (
        "1.0625",
        "0.5",
        "1.25",
    )


def test_an_admin_checking_in_for_someone_is_the_author(member, admin, kr, listening):
    checkin_services.checkin_submit(org=member.organization, actor=admin, key_result=kr, value=51)
    assert by_type("checkin.created")[0]["author"]["id"] == str(admin.public_id)


def test_a_viewer_role_cannot_trigger_events(member, kr, listening):
    viewer = MembershipFactory(organization=member.organization, role=Role.VIEWER)
    with pytest.raises(Exception):  # noqa: B017
        checkin_services.checkin_submit(org=member.organization, actor=viewer, key_result=kr, value=51)
    assert deliveries() == []


def test_without_redis_reads_go_to_the_database_and_adding_endpoints_fails_safe(org, settings, make_endpoint, receiver):
    make_endpoint(receiver.url, [Event.CHECKIN_CREATED])
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    with CaptureQueriesContext(connection) as ctx:
        assert subscribed_event_types(org.pk) == {"checkin.created"}
    assert len(ctx.captured_queries) == 1
    with pytest.raises(Exception, match="(?i)connect"):
        subscriptions_changed(org.pk)  # a change that may add subscriptions must not leave a stale "no" behind
    subscriptions_changed(org.pk, may_add=False)  # removing is safe: a stale "yes" only costs an empty INSERT
