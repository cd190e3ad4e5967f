"""A public objective aligned to a private one must not reveal the private parent's ids (or title) to someone who
can't see it: not in the objective's detail or list, its KRs, the contributions, the objective page or the map."""

import pytest

from objectives.models import Objective
from tests.factories_okr import ContributionFactory, KeyResultFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db


def url(org, path):
    return f"/api/v1/o/{org.slug}/{path}"


@pytest.fixture
def aligned(org, owner, cycle):
    """The owner's private objective S ("Secret plan", KR "Secret KR") and two public objectives: P2 aligned to
    the KR, P3 to S itself; P4 contributes to the secret KR."""
    secret = ObjectiveFactory(cycle=cycle, owner=owner, visibility=Objective.Visibility.PRIVATE, title="Secret plan")
    secret_kr = KeyResultFactory(objective=secret, title="Secret KR")
    to_kr = ObjectiveFactory(cycle=cycle, owner=owner, title="Public to KR", parent_key_result=secret_kr)
    to_objective = ObjectiveFactory(cycle=cycle, owner=owner, title="Public to objective", parent_objective=secret)
    contributor = ObjectiveFactory(cycle=cycle, owner=owner, title="Public contributor")
    ContributionFactory(objective=contributor, key_result=secret_kr)
    return {"secret": secret, "kr": secret_kr, "to_kr": to_kr, "to_objective": to_objective, "contributor": contributor}


def _parents(body: dict) -> tuple:
    return body["parent_objective"], body["parent_key_result"]


def test_a_member_who_cannot_see_the_parent_sees_null_parent_ids(org, member, aligned, api_client_for):
    api = api_client_for(member)
    for key in ("to_kr", "to_objective"):
        body = api.get(url(org, f"objectives/{aligned[key].public_id}")).json()
        assert _parents(body) == (None, None) and body["parent"] is None, key
    listed = {o["id"]: o for o in api.get(url(org, "objectives")).json()["results"]}
    assert str(aligned["secret"].public_id) not in listed
    for key in ("to_kr", "to_objective"):
        assert _parents(listed[str(aligned[key].public_id)]) == (None, None), key
    everything = api.get(url(org, "objectives"), {"page_size": 200}).content.decode()
    for hidden in (aligned["secret"].public_id, aligned["kr"].public_id):
        assert str(hidden) not in everything


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_those_who_see_the_parent_still_get_its_ids(who, org, owner, admin, aligned, api_client_for):
    api = api_client_for({"owner": owner, "admin": admin}[who])
    secret, kr = str(aligned["secret"].public_id), str(aligned["kr"].public_id)
    body = api.get(url(org, f"objectives/{aligned['to_kr'].public_id}")).json()
    assert _parents(body) == (None, kr) and body["parent"]["key_result"]["id"] == kr
    body = api.get(url(org, f"objectives/{aligned['to_objective'].public_id}")).json()
    assert _parents(body) == (secret, None) and body["parent"]["objective"]["id"] == secret
    listed = {o["id"]: o for o in api.get(url(org, "objectives")).json()["results"]}
    assert _parents(listed[str(aligned["to_kr"].public_id)]) == (None, kr)
    assert _parents(listed[str(aligned["to_objective"].public_id)]) == (secret, None)
    contributor = api.get(url(org, f"objectives/{aligned['contributor'].public_id}")).json()
    assert [c["key_result"]["id"] for c in contributor["contributions"]] == [kr]


def test_contributions_and_key_results_hide_the_private_end(org, member, aligned, api_client_for):
    api = api_client_for(member)
    hidden = (str(aligned["secret"].public_id), str(aligned["kr"].public_id), "Secret plan", "Secret KR")
    for path in (
        "contributions",
        f"contributions?objective={aligned['contributor'].public_id}",
        f"objectives/{aligned['contributor'].public_id}",
        "key-results",
        "map",
        "initiatives",
    ):
        r = api.get(url(org, path))
        assert r.status_code == 200, path
        assert not any(h in r.content.decode() for h in hidden), path
    assert api.get(url(org, f"key-results/{aligned['kr'].public_id}")).status_code == 404


def test_the_objective_page_does_not_show_a_hidden_parent(org, member, owner, aligned, client_for):
    for key in ("to_kr", "to_objective"):
        page = client_for(member).get(f"/o/acme/objectives/{aligned[key].public_id}/").content.decode()
        assert "Secret" not in page and str(aligned["secret"].public_id) not in page, key
        assert str(aligned["kr"].public_id) not in page, key
    page = client_for(owner).get(f"/o/acme/objectives/{aligned['to_kr'].public_id}/").content.decode()
    assert "Secret KR" in page


def test_the_map_page_does_not_show_a_hidden_parent(org, member, aligned, client_for, cycle):
    page = client_for(member).get(f"/o/acme/map/?cycle={cycle.public_id}")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Secret" not in text and str(aligned["kr"].public_id) not in text


def test_the_alignment_pickers_of_a_members_own_objective_do_not_show_a_hidden_parent(
    org, member, owner, cycle, client_for
):
    """An admin aligned the member's objective to the owner's private one: the member may edit the alignment, and
    the pickers must not reveal what it currently points at."""
    secret = ObjectiveFactory(cycle=cycle, owner=owner, visibility=Objective.Visibility.PRIVATE, title="Secret plan")
    secret_kr = KeyResultFactory(objective=secret, title="Secret KR")
    mine = ObjectiveFactory(cycle=cycle, owner=member, title="Mine", parent_key_result=secret_kr)
    client = client_for(member)
    base = f"/o/acme/objectives/{mine.public_id}/"
    for path in (
        base + "?edit=alignment",
        base + "alignment/form/?form=align",
        base + "alignment/form/?form=contribution",
    ):
        r = client.get(path)
        assert r.status_code == 200, path
        text = r.content.decode()
        assert "Secret" not in text and str(secret_kr.public_id) not in text and str(secret.public_id) not in text
