"""OKR API: happy paths, JSON errors with field names, roles (403), other org (404), privacy, query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from objectives.models import KeyResult, Objective, Revision
from tests.factories_okr import CycleFactory, InitiativeFactory, KeyResultFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db


def url(org, path):
    return f"/api/v1/o/{org.slug}/{path}"


def test_objective_crud_happy_path(org, member, cycle, api_client_for):
    api = api_client_for(member)
    r = api.post(url(org, "objectives"), {"cycle": str(cycle.public_id), "title": "Delight teams", "level": "company"})
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["owner"]["id"] == str(member.public_id) and body["status"] == "draft"
    oid = body["id"]
    r = api.post(
        url(org, "key-results"),
        {
            "objective": oid,
            "title": "Day-7 activation",
            "unit": "percent",
            "baseline": "34",
            "target": 52,
            "owner": str(member.public_id),
        },
    )
    assert r.status_code == 201, r.json()
    assert r.json()["display"]["target"] == "52%" and r.json()["progress"] == 0
    r = api.post(url(org, f"objectives/{oid}/publish"))
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "active" and r.json()["key_results"][0]["status"] == "active"
    r = api.patch(url(org, f"objectives/{oid}"), {"title": "Delight new teams"})
    assert r.status_code == 200 and r.json()["title"] == "Delight new teams"
    r = api.get(url(org, "objectives"), {"cycle": str(cycle.public_id)})
    assert r.status_code == 200
    assert [o["title"] for o in r.json()["results"]] == ["Delight new teams"]
    assert {"signals", "status_signal", "progress", "key_results"} <= set(r.json()["results"][0])
    r = api.delete(url(org, f"objectives/{oid}"))
    assert r.status_code == 204 and not Objective.objects.exists()


def test_validation_errors_name_fields(org, member, cycle, api_client_for):
    api = api_client_for(member)
    r = api.post(url(org, "objectives"), {"cycle": str(cycle.public_id), "title": "", "level": "team"})
    assert r.status_code == 400 and "title" in r.json()
    r = api.post(url(org, "objectives"), {"cycle": str(cycle.public_id), "title": "T", "level": "team"})
    assert r.status_code == 400 and r.json() == {"team": ["A team objective needs a team."]}
    r = api.post(url(org, "objectives"), {"cycle": "not-a-uuid", "title": "T"})
    assert r.status_code == 400 and "cycle" in r.json()
    r = api.get(url(org, "objectives"), {"owner": "nope"})
    assert r.status_code == 400 and "owner" in r.json()
    r = api.get(url(org, "objectives"), {"signal": "sparkly"})
    assert r.status_code == 400 and "signal" in r.json()


def test_publish_lists_blockers(org, member, cycle, api_client_for):
    objective = ObjectiveFactory(cycle=cycle, owner=member, status="draft")
    KeyResultFactory(objective=objective, owner=None, title="Nobody's KR")
    r = api_client_for(member).post(url(org, f"objectives/{objective.public_id}/publish"))
    assert r.status_code == 400
    assert r.json() == {"blockers": ["KR 'Nobody's KR' has no owner."]}


def test_kr_change_needs_rationale_and_shows_revisions(org, member, cycle, api_client_for):
    objective = ObjectiveFactory(cycle=cycle, owner=member)
    kr = KeyResultFactory(objective=objective, owner=member, target=100)
    api = api_client_for(member)
    r = api.patch(url(org, f"key-results/{kr.public_id}"), {"target": 120})
    assert r.status_code == 400 and "rationale" in r.json()
    r = api.patch(url(org, f"key-results/{kr.public_id}"), {"target": 120, "rationale": "Bigger market"})
    assert r.status_code == 200, r.json()
    assert r.json()["revisions"][0]["changes"] == {"target": ["100", "120"]}
    assert Revision.objects.count() == 1


def test_viewer_cannot_write_and_non_owner_member_gets_403(org, member, viewer, admin, cycle, api_client_for):
    objective = ObjectiveFactory(cycle=cycle, owner=admin)
    kr = KeyResultFactory(objective=objective, owner=admin)
    r = api_client_for(viewer).post(url(org, "objectives"), {"cycle": str(cycle.public_id), "title": "T"})
    assert r.status_code == 403
    api = api_client_for(member)
    assert api.patch(url(org, f"objectives/{objective.public_id}"), {"title": "Mine now"}).status_code == 403
    assert api.patch(url(org, f"key-results/{kr.public_id}"), {"title": "x"}).status_code == 403
    assert api.delete(url(org, f"key-results/{kr.public_id}")).status_code == 403
    assert (
        api.post(url(org, "cycles"), {"name": "Q9", "start_date": "2026-01-01", "end_date": "2026-03-31"}).status_code
        == 403
    )
    # The KR owner may edit their KR even without owning the objective.
    mine = KeyResultFactory(objective=objective, owner=member)
    assert api.patch(url(org, f"key-results/{mine.public_id}"), {"title": "Renamed"}).status_code == 200
    # ... and anyone from MEMBER up may add an initiative to a KR they can see.
    r = api.post(url(org, "initiatives"), {"key_result": str(kr.public_id), "title": "Try onboarding emails"})
    assert r.status_code == 201 and r.json()["owner"]["id"] == str(member.public_id)


def test_other_org_objects_are_404(org, member, admin, other_org, outsider, api_client_for):
    foreign_cycle = CycleFactory(organization=other_org)
    foreign = ObjectiveFactory(cycle=foreign_cycle, owner=outsider)
    foreign_kr = KeyResultFactory(objective=foreign)
    foreign_init = InitiativeFactory(key_result=foreign_kr)
    api = api_client_for(member)
    for path in (
        f"objectives/{foreign.public_id}",
        f"key-results/{foreign_kr.public_id}",
        f"initiatives/{foreign_init.public_id}",
    ):
        assert api.get(url(org, path)).status_code == 404, path
        assert api.delete(url(org, path)).status_code == 404, path
    assert api.get(url(org, f"cycles/{foreign_cycle.public_id}")).status_code == 404
    assert api.post(url(org, f"objectives/{foreign.public_id}/publish")).status_code == 404
    assert api_client_for(admin).delete(url(org, f"cycles/{foreign_cycle.public_id}")).status_code == 404
    # A token of this org under the other org's slug: as if the org did not exist.
    assert api.get(url(other_org, "objectives")).status_code == 404
    # Referencing another org's objects in a body is a 400 naming the field.
    r = api.post(url(org, "key-results"), {"objective": str(foreign.public_id), "title": "x"})
    assert r.status_code == 400 and "objective" in r.json()


def test_private_objectives_invisible_in_api(org, member, viewer, cycle, api_client_for):
    private = ObjectiveFactory(cycle=cycle, owner=member, visibility="private", title="Secret")
    kr = KeyResultFactory(objective=private)
    InitiativeFactory(key_result=kr)
    ObjectiveFactory(cycle=cycle, owner=member, title="Open")
    api = api_client_for(viewer)
    assert [o["title"] for o in api.get(url(org, "objectives")).json()["results"]] == ["Open"]
    assert api.get(url(org, f"objectives/{private.public_id}")).status_code == 404
    assert api.get(url(org, f"key-results/{kr.public_id}")).status_code == 404
    assert api.get(url(org, "key-results")).json()["results"] == []
    assert api.get(url(org, "initiatives")).json()["results"] == []
    owner_view = api_client_for(member).get(url(org, "objectives")).json()["results"]
    assert {o["title"] for o in owner_view} == {"Secret", "Open"}


def test_alignment_and_contributions(org, member, cycle, api_client_for):
    parent = ObjectiveFactory(cycle=cycle, owner=member, title="Parent")
    parent_kr = KeyResultFactory(objective=parent, owner=member)
    child = ObjectiveFactory(cycle=cycle, owner=member, title="Child")
    other_kr = KeyResultFactory(objective=ObjectiveFactory(cycle=cycle, owner=member, title="Other"), owner=member)
    api = api_client_for(member)
    r = api.put(url(org, f"objectives/{child.public_id}/alignment"), {"parent_key_result": str(parent_kr.public_id)})
    assert r.status_code == 200 and r.json()["parent"]["key_result"]["id"] == str(parent_kr.public_id)
    r = api.put(url(org, f"objectives/{parent.public_id}/alignment"), {"parent_objective": str(child.public_id)})
    assert r.status_code == 400 and "loop" in r.json()["parent"][0]
    r = api.post(
        url(org, "contributions"),
        {"objective": str(child.public_id), "key_result": str(other_kr.public_id), "weight": "0.5"},
    )
    assert r.status_code == 201, r.json()
    cid = r.json()["id"]
    detail = api.get(url(org, f"objectives/{child.public_id}")).json()
    assert detail["contributions"][0]["weight"] == 0.5
    assert api.patch(url(org, f"contributions/{cid}"), {"weight": 2}).json()["weight"] == 2.0
    assert api.get(url(org, "contributions"), {"objective": str(child.public_id)}).json()["results"][0]["id"] == cid
    assert api.delete(url(org, f"contributions/{cid}")).status_code == 204


def test_cycles_admin_crud_and_activate(org, admin, api_client_for):
    api = api_client_for(admin)
    r = api.post(url(org, "cycles"), {"name": "Q3", "start_date": "2026-07-01", "end_date": "2026-09-30"})
    assert r.status_code == 201, r.json()
    cid = r.json()["id"]
    assert api.post(url(org, f"cycles/{cid}/activate")).json()["status"] == "active"
    r = api.post(url(org, "cycles"), {"name": "Bad", "start_date": "2026-07-01", "end_date": "2026-06-30"})
    assert r.status_code == 400 and "end_date" in r.json()
    assert api.delete(url(org, f"cycles/{cid}")).status_code == 204


def test_key_result_activate_without_owner(org, member, cycle, api_client_for):
    objective = ObjectiveFactory(cycle=cycle, owner=member)
    kr = KeyResultFactory(objective=objective, owner=None, title="Orphan")
    r = api_client_for(member).post(url(org, f"key-results/{kr.public_id}/activate"))
    assert r.status_code == 400 and r.json() == {"owner": ["KR 'Orphan' has no owner."]}


def test_initiatives_crud(org, member, cycle, api_client_for):
    kr = KeyResultFactory(objective=ObjectiveFactory(cycle=cycle, owner=member), owner=member)
    api = api_client_for(member)
    r = api.post(url(org, "initiatives"), {"key_result": str(kr.public_id), "title": "Guided setup", "progress": 101})
    assert r.status_code == 400 and "progress" in r.json()
    r = api.post(
        url(org, "initiatives"), {"key_result": str(kr.public_id), "title": "Guided setup", "due_date": "2000-01-01"}
    )
    assert r.status_code == 201
    iid = r.json()["id"]
    assert {s["code"] for s in r.json()["signals"]} == {"overdue"}
    r = api.patch(url(org, f"initiatives/{iid}"), {"status": "done"})
    assert r.json()["status"] == "done" and r.json()["progress"] == 100
    assert api.get(url(org, "initiatives"), {"key_result": str(kr.public_id)}).json()["results"][0]["id"] == iid
    assert api.delete(url(org, f"initiatives/{iid}")).status_code == 204


def test_me(org, viewer, api_client_for):
    r = api_client_for(viewer).get(url(org, "me"))
    assert r.status_code == 200 and r.json()["role"] == "viewer"


def _make(org, cycle, owner, n):
    for i in range(n):
        o = ObjectiveFactory(cycle=cycle, owner=owner, visibility="private" if i % 4 == 0 else "organization")
        for _ in range(2):
            InitiativeFactory(key_result=KeyResultFactory(objective=o))


@pytest.mark.parametrize("path", ["objectives", "key-results", "initiatives", "contributions", "cycles"])
def test_list_endpoints_use_constant_queries(org, member, viewer, cycle, api_client_for, path):
    api = api_client_for(viewer)
    api.get(url(org, "me"))  # the token's first use stamps last_used_at; measure steady state
    _make(org, cycle, member, 10)

    def count(params=None):
        with CaptureQueriesContext(connection) as ctx:
            r = api.get(url(org, path), params or {"page_size": 200})
        assert r.status_code == 200
        return len(ctx.captured_queries)

    small = count()
    small_signal = count({"signal": "no_work", "page_size": 200}) if path in ("objectives", "key-results") else 0
    _make(org, cycle, member, 200)
    assert count() == small
    if path in ("objectives", "key-results"):
        assert count({"signal": "no_work", "page_size": 200}) == small_signal
    assert KeyResult.objects.count() == 420
