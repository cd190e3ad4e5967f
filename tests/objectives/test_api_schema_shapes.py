"""Real answers have exactly the keys their schema component declares (a strict validator, additionalProperties:
false, must accept them): the objective detail, with its KRs' initiatives, and the lists."""

import pytest

from tests.factories_okr import ContributionFactory, InitiativeFactory, KeyResultFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    if "allOf" in node and len(node["allOf"]) == 1:
        return _resolve(schema, node["allOf"][0])
    return node


def _check(schema: dict, node: dict, value, where: str) -> None:
    node = _resolve(schema, node)
    if isinstance(value, dict) and "properties" in node:
        assert set(value) == set(node["properties"]), (where, set(value) ^ set(node["properties"]))
        for key, item in value.items():
            _check(schema, node["properties"][key], item, f"{where}.{key}")
    elif isinstance(value, list) and "items" in node:
        for i, item in enumerate(value):
            _check(schema, node["items"], item, f"{where}[{i}]")


def test_objective_detail_and_lists_match_their_components_key_for_key(org, admin, cycle, api_client_for):
    objective = ObjectiveFactory(cycle=cycle, owner=admin)
    kr = KeyResultFactory(objective=objective, owner=admin)
    InitiativeFactory(key_result=kr)
    ContributionFactory(objective=ObjectiveFactory(cycle=cycle, owner=admin), key_result=kr)
    api = api_client_for(admin)
    schema = api.get("/api/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    assert components["ObjectiveDetailOut"]["properties"]["key_results"]["items"] == {
        "$ref": "#/components/schemas/KeyResultWithInitiatives"
    }
    detail = api.get(f"/api/v1/o/{org.slug}/objectives/{objective.public_id}").json()
    assert detail["key_results"][0]["initiatives"]
    _check(schema, {"$ref": "#/components/schemas/ObjectiveDetailOut"}, detail, "objective")
    listed = api.get(f"/api/v1/o/{org.slug}/objectives").json()["results"]
    for o in listed:
        _check(schema, {"$ref": "#/components/schemas/ObjectiveOut"}, o, "objectives[]")
    kr_detail = api.get(f"/api/v1/o/{org.slug}/key-results/{kr.public_id}").json()
    _check(schema, {"$ref": "#/components/schemas/KeyResultDetailOut"}, kr_detail, "key_result")
