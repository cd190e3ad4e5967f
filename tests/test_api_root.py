"""The API front door: a script discovers the collections from /api/v1/o/<org>/, and unknown API paths answer JSON."""

import pytest
from rest_framework.test import APIClient

from okrapp.api.root import RESOURCES


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
@pytest.mark.parametrize("path", ["/api/v1/o/acme/no-such-thing", "/api/v2/", "/api/", "/api/v1/o/acme/objectives/"])
def test_unknown_api_paths_answer_json_404(path, admin, api_client_for):
    response = api_client_for(admin).get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}
