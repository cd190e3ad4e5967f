"""Schemathesis against our own OpenAPI schema (examples + coverage + a little fuzzing) for the OKR endpoints:
0 server errors, 0 responses that contradict the schema. Authenticated with a real API token of an ADMIN.

(The lazy `schemathesis.pytest.from_fixture` loader does not work with pytest 9, so the schema is built at import
time, in-process.)"""

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from accounts.services import api_token_create
from tests.factories_okr import ContributionFactory, CycleFactory, InitiativeFactory, KeyResultFactory, ObjectiveFactory

CONFIG = schemathesis.Config.from_dict(
    {
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True, "unexpected-methods": []},
            "fuzzing": {"enabled": False},
            "stateful": {"enabled": False},
        },
        "generation": {"max-examples": 4, "deterministic": True},
        "suppress-health-check": ["too_slow", "filter_too_much"],
    }
)
OUR_PATHS = r"^/api/v1/o/\{org_slug\}/($|objectives|key-results|initiatives|cycles|contributions|me)"


def _openapi() -> dict:
    """The same document /api/schema/ serves, generated in-process (serving it would need the database)."""
    spec = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(spec))


schema = schemathesis.openapi.from_dict(_openapi(), config=CONFIG).include(path_regex=OUR_PATHS)
schema.app = get_wsgi_application()


@pytest.fixture
def okr_data(db, org, admin, member):
    """Some real rows so list endpoints return items whose shape the schema must describe."""
    cycle = CycleFactory(organization=org)
    objective = ObjectiveFactory(cycle=cycle, owner=admin)
    kr = KeyResultFactory(objective=objective)
    InitiativeFactory(key_result=kr)
    ContributionFactory(objective=ObjectiveFactory(cycle=cycle, owner=member), key_result=kr)
    _, secret = api_token_create(actor=admin, name="schemathesis")
    # Like Django's test client: a request must not close the test's (transactional) DB connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield {"org": org, "headers": {"Authorization": f"Bearer {secret}"}}
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None)
def test_okr_api_conforms_to_schema(case, okr_data):
    case.path_parameters = {**(case.path_parameters or {}), "org_slug": okr_data["org"].slug}
    case.call_and_validate(headers=okr_data["headers"], checks=[not_a_server_error, response_schema_conformance])
