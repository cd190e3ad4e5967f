"""The API front door: a script discovers the collections from /api/v1/o/<org>/, and unknown API paths answer JSON."""

import pytest
from rest_framework.test import APIClient

from objectives.models import Objective
from okrapp.api.root import RESOURCES
from tests.factories_okr import CycleFactory, KeyResultFactory, ObjectiveFactory


@pytest.mark.django_db
def test_the_root_links_every_collection_and_each_link_answers(admin, api_client_for):
    api = api_client_for(admin)
    response = api.get("/api/v1/o/acme/")
    assert response.status_code == 200
    body = response.json()
    assert body["organization"] == "acme"
    assert set(body["resources"]) == {key for key, _ in RESOURCES}
    assert body["schema"] == "http://testserver/api/schema/"
    for key, url in body["resources"].items():
        assert url.startswith("http://testserver/api/v1/o/acme/"), key
        assert api.get(url).status_code == 200, f"{key}: {url}"


@pytest.mark.django_db
def test_a_viewer_may_read_the_root_and_a_stranger_may_not(viewer, api_client_for):
    assert api_client_for(viewer).get("/api/v1/o/acme/").status_code == 200
    anonymous = APIClient().get("/api/v1/o/acme/")
    assert anonymous.status_code == 401
    assert "detail" in anonymous.json()


@pytest.mark.django_db
def test_a_token_under_another_orgs_root_is_404(viewer, other_org, api_client_for):
    response = api_client_for(viewer).get(f"/api/v1/o/{other_org.slug}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No such organization."}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/o/acme/no-such-thing", "/api/v2/", "/api/", "/api/v1/o/acme/nothing/"])
def test_unknown_api_paths_answer_json_404(path, admin, api_client_for):
    response = api_client_for(admin).get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "get", "options"])
def test_unknown_api_paths_answer_json_404_to_every_method_also_with_a_session(method, admin, client_for):
    """A signed-in browser session without a CSRF token (what DRF's session auth would refuse) still gets the 404:
    nothing exists there to protect."""
    client = client_for(admin)
    client.handler.enforce_csrf_checks = True
    response = getattr(client, method)("/api/v1/o/acme/nonexistent", {"x": 1}, content_type="application/json")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.django_db
def test_a_trailing_slash_on_a_real_endpoint_says_which_path_was_meant(admin, api_client_for):
    cycle = CycleFactory(organization=admin.organization)
    o = ObjectiveFactory(cycle=cycle, owner=admin)
    kr = KeyResultFactory(objective=o)
    api = api_client_for(admin)
    for method, path in [
        ("post", f"/api/v1/o/acme/key-results/{kr.public_id}/check-ins/"),
        ("patch", f"/api/v1/o/acme/objectives/{o.public_id}/"),
        ("get", f"/api/v1/o/acme/objectives/{o.public_id}/"),
        ("get", "/api/v1/o/acme/objectives/"),
        ("delete", f"/api/v1/o/acme/objectives/{o.public_id}/"),
    ]:
        response = getattr(api, method)(path, {}, format="json")
        assert response.status_code == 404, (method, path)
        assert response.json() == {
            "detail": f"Not found. API paths have no trailing slash: did you mean {path.rstrip('/')}?"
        }, (method, path)
    assert Objective.objects.filter(pk=o.pk).exists()
