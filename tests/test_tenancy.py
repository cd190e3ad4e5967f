"""Tenant isolation, enforced for every URL, every model and every view module (STYLE.md c.4 §6).

(a) Every URL with `org_slug` and an object id, pages and API, every method, as a member of another organization:
    404. New URLs are covered automatically; a new id kwarg or API basename fails until a factory is added below.
(b) Every model in our apps carries a non-null `organization` FK, unless explicitly allow-listed.
(c) A lint: views never use `<Model>.objects.` without `.for_org(` (allow-list or `# tenancy: system`).
"""

import ast
import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Invitation, Role
from accounts.services import api_token_create
from tests.factories import MembershipFactory, TeamFactory

ROOT = Path(__file__).resolve().parent.parent
METHODS = ("get", "post", "put", "patch", "delete")
ORG_KWARG = "org_slug"


# --- The URL walk -----------------------------------------------------------------------------------------------------
def _kwarg_names(pattern) -> tuple[str, ...]:
    converters = getattr(pattern, "converters", None)
    if converters:
        return tuple(converters)
    regex = getattr(pattern, "regex", None)
    return tuple(regex.groupindex) if regex is not None else ()


def _walk(resolver, namespace=None, kwargs=()):
    for entry in resolver.url_patterns:
        names = kwargs + _kwarg_names(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry, ns, names)
        elif isinstance(entry, URLPattern) and entry.name:
            yield (f"{namespace}:{entry.name}" if namespace else entry.name), names


def org_url_patterns() -> list[tuple[str, tuple[str, ...]]]:
    """(url name, kwarg names) of every named route under an org slug, pages and API alike."""
    seen, found = set(), []
    for name, names in _walk(get_resolver()):
        if ORG_KWARG in names and (name, names) not in seen:
            seen.add((name, names))
            found.append((name, names))
    return found


def is_api(name: str) -> bool:
    return name.startswith("api-")


# --- Object factories: one per id kwarg, and per API basename for DRF's `public_id` -----------------------------------
# Each factory gets (org, made) — `made` holds the objects already created for this URL, so nested routes get a
# consistent chain (a contribution under the objective in the URL, an initiative under the key result, ...).
def _member(org, made):
    return MembershipFactory(organization=org, role=Role.MEMBER)


def _team(org, made):
    return TeamFactory(organization=org)


def _invitation(org, made):
    return Invitation.objects.create(
        organization=org,
        email=f"{uuid.uuid4().hex[:8]}@invited.test",
        token_hash=uuid.uuid4().hex,
        expires_at=timezone.now() + timedelta(days=7),
    )


def _token(org, made):
    token, _ = api_token_create(actor=MembershipFactory(organization=org, role=Role.ADMIN), name="victim")
    return token


def _cycle(org, made):
    from tests.factories_okr import CycleFactory

    return made.get("cycle_id") or CycleFactory(organization=org)


def _objective(org, made):
    from tests.factories_okr import ObjectiveFactory

    return made.get("objective_id") or ObjectiveFactory(cycle=_cycle(org, made))


def _key_result(org, made):
    from tests.factories_okr import KeyResultFactory

    owner = MembershipFactory(organization=org)
    return made.get("key_result_id") or KeyResultFactory(objective=_objective(org, made), owner=owner)


def _initiative(org, made):
    from tests.factories_okr import InitiativeFactory

    return made.get("initiative_id") or InitiativeFactory(key_result=_key_result(org, made))


def _contribution(org, made):
    from objectives.models import Contribution
    from tests.factories_okr import KeyResultFactory, ObjectiveFactory

    objective = _objective(org, made)
    other_kr = KeyResultFactory(objective=ObjectiveFactory(cycle=objective.cycle))
    return Contribution.objects.create(organization=org, objective=objective, key_result=other_kr)


def _check_in(org, made):
    from checkins.models import CheckIn

    key_result = _key_result(org, made)
    return CheckIn.objects.create(organization=org, key_result=key_result, value=1, confidence=5)


def _webhook_endpoint(org, made):
    from webhooks.models import WebhookEndpoint

    return made.get("endpoint_id") or WebhookEndpoint.objects.create(
        organization=org, url=f"https://hooks.example.com/{uuid.uuid4().hex}", events=["checkin.created"], secret="s"
    )


def _webhook_delivery(org, made):
    from webhooks.models import WebhookDelivery

    return WebhookDelivery.objects.create(
        organization=org,
        endpoint=_webhook_endpoint(org, made),
        event_id=uuid.uuid4(),
        event_type="checkin.created",
        payload={},
        status=WebhookDelivery.Status.FAILED,
    )


KWARG_FACTORIES = {
    "member_id": _member,
    "team_id": _team,
    "invitation_id": _invitation,
    "token_id": _token,
    "cycle_id": _cycle,
    "objective_id": _objective,
    "key_result_id": _key_result,
    "initiative_id": _initiative,
    "contribution_id": _contribution,
    "check_in_id": _check_in,
    "checkin_id": _check_in,
    "endpoint_id": _webhook_endpoint,
    "delivery_id": _webhook_delivery,
}
# DRF routes name their id `public_id`; the router basename says what it is.
API_BASENAME_FACTORIES = {
    "api-members": _member,
    "api-teams": _team,
    "api-cycles": _cycle,
    "api-objectives": _objective,
    "api-key-results": _key_result,
    "api-initiatives": _initiative,
    "api-contributions": _contribution,
    "api-check-ins": _check_in,
    "api-checkins": _check_in,
    "api-webhook-endpoints": _webhook_endpoint,
    "api-webhook-deliveries": _webhook_delivery,
}


def _factory_for(name: str, kwarg: str):
    if kwarg in ("public_id", "pk"):
        basename = next(
            (b for b in sorted(API_BASENAME_FACTORIES, key=len, reverse=True) if name.startswith(b + "-")), None
        )
        if basename is None:
            pytest.fail(
                f"URL {name!r} has an id kwarg {kwarg!r} under an API basename with no factory. Add the basename to "
                "API_BASENAME_FACTORIES in tests/test_tenancy.py so its cross-tenant 404 is tested."
            )
        return API_BASENAME_FACTORIES[basename]
    if kwarg not in KWARG_FACTORIES:
        pytest.fail(
            f"URL {name!r} takes {kwarg!r}, which has no object factory. Add one to KWARG_FACTORIES in "
            "tests/test_tenancy.py (kwarg → object of the given org) so its cross-tenant 404 is tested."
        )
    return KWARG_FACTORIES[kwarg]


def _objects_for(name: str, kwargs: tuple[str, ...], org) -> dict:
    made = {}
    for kwarg in kwargs:
        if kwarg != ORG_KWARG:
            made[kwarg] = _factory_for(name, kwarg)(org, made)
    return made


def _reverse(name, slug, objects: dict):
    return reverse(name, kwargs={ORG_KWARG: slug, **{k: str(o.public_id) for k, o in objects.items()}})


def _request(client, method, path):
    kwargs = {"format": "json"} if isinstance(client, APIClient) and method != "get" else {}
    return getattr(client, method)(path, **kwargs)


OBJECT_URLS = [(n, k) for n, k in org_url_patterns() if set(k) - {ORG_KWARG}]
PLAIN_URLS = [(n, k) for n, k in org_url_patterns() if not set(k) - {ORG_KWARG}]


def test_the_walk_finds_pages_and_api_routes_with_ids():
    names = {n for n, _ in OBJECT_URLS}
    assert {"accounts:team_detail", "accounts:member_role", "api-teams-detail", "api-members-detail"} <= names
    assert {"accounts:members", "api-teams-list"} <= {n for n, _ in PLAIN_URLS}


@pytest.fixture
def outsider_clients(outsider, client, api_client_for):
    client.force_login(outsider.user)
    return {"page": client, "api": api_client_for(outsider)}


@pytest.mark.parametrize(("name", "kwargs"), OBJECT_URLS, ids=[n for n, _ in OBJECT_URLS])
def test_object_of_another_org_is_404_under_my_own_org(name, kwargs, org, outsider, outsider_clients):
    """The outsider is OWNER of other_org and asks, under other_org's slug, for an object of org: 404 always.

    A method the URL does not allow may answer 405 instead, but only if an unknown id answers exactly the same
    (the method check ran before any lookup, so nothing about the object leaks).
    """
    client = outsider_clients["api" if is_api(name) else "page"]
    objects = _objects_for(name, kwargs, org)
    path = _reverse(name, outsider.organization.slug, objects)
    missing_path = _reverse(name, outsider.organization.slug, {k: _Missing() for k in objects})
    for method in METHODS:
        status = _request(client, method, path).status_code
        if status == 405:
            assert _request(client, method, missing_path).status_code == 405, f"{method.upper()} {path}"
            continue
        assert status == 404, f"{method.upper()} {path} ({name}) answered {status} for another org's object"
    for obj in objects.values():  # nothing was changed or deleted
        assert type(obj).objects.filter(pk=obj.pk).exists()


@pytest.mark.parametrize(("name", "kwargs"), OBJECT_URLS, ids=[n for n, _ in OBJECT_URLS])
def test_object_urls_of_an_org_i_am_not_in_are_404(name, kwargs, org, outsider_clients):
    client = outsider_clients["api" if is_api(name) else "page"]
    path = _reverse(name, org.slug, _objects_for(name, kwargs, org))
    for method in METHODS:
        status = _request(client, method, path).status_code
        assert status == 404, f"{method.upper()} {path} ({name}) answered {status} to a non-member"


@pytest.mark.parametrize(("name", "kwargs"), PLAIN_URLS, ids=[n for n, _ in PLAIN_URLS])
def test_org_urls_without_ids_are_404_for_non_members(name, kwargs, org, outsider_clients):
    client = outsider_clients["api" if is_api(name) else "page"]
    path = reverse(name, kwargs={ORG_KWARG: org.slug})
    for method in METHODS:
        status = _request(client, method, path).status_code
        assert status == 404, f"{method.upper()} {path} ({name}) answered {status} to a non-member"


def test_non_member_404_body_is_the_same_as_for_a_missing_org(org, outsider_clients):
    client = outsider_clients["page"]
    real = client.get(reverse("accounts:members", args=[org.slug]))
    missing = client.get(reverse("accounts:members", args=["no-such-org"]))
    assert real.status_code == missing.status_code == 404

    def unmasked(response):  # the CSRF token is masked differently on every render
        return re.sub(rb'"X-CSRFToken": "[^"]+"|name="csrfmiddlewaretoken" value="[^"]+"', b"", response.content)

    assert unmasked(real) == unmasked(missing)


class _Missing:
    public_id = "00000000-0000-4000-8000-000000000000"


# --- (b) Every tenant model carries a non-null organization ---------------------------------------------------
OUR_APPS = ("accounts", "objectives", "initiatives", "checkins", "integrations", "webhooks")
NOT_TENANT_DATA = {
    "accounts.Organization": "the tenant itself",
    "accounts.User": "a person; belongs to organizations through Membership",
    "accounts.AuditEvent": "organization is null for sign-in events that happen before any org is known",
    "accounts.OutboxMessage": "dev email outbox (make run / browser tests), not customer data",
    "checkins.NudgeClaim": "the nudge dispatcher's claim journal: a batch spans orgs; its receipts carry the org",
}


def test_every_tenant_model_has_a_non_null_organization_fk():
    problems = []
    for app_label in OUR_APPS:
        for model in apps.get_app_config(app_label).get_models(include_auto_created=False):
            label = model._meta.label
            if label in NOT_TENANT_DATA:
                continue
            try:
                field = model._meta.get_field("organization")
            except Exception:
                problems.append(f"{label}: no `organization` field")
                continue
            if not isinstance(field, models.ForeignKey) or field.related_model._meta.label != "accounts.Organization":
                problems.append(f"{label}: `organization` is not a FK to accounts.Organization")
            elif field.null:
                problems.append(f"{label}: `organization` is nullable")
    assert not problems, (
        "Tenant-owned models need a non-null organization FK (inherit okrapp.db.TenantModel), or an entry with a "
        "reason in NOT_TENANT_DATA:\n" + "\n".join(problems)
    )


def test_the_allow_list_has_no_stale_entries():
    for label in NOT_TENANT_DATA:
        apps.get_model(label)  # LookupError when a listed model was renamed or removed


# --- (c) Lint: no unscoped Model.objects in views ------------------------------------------------------------
SYSTEM_MARKER = "# tenancy: system"
# Files (relative to the repo root) and the model names they may query without for_org, each with the reason.
LINT_ALLOW = {
    # ("path/to/views.py", "Model"): "why this lookup is not tenant data",
}
_OBJECTS_RE = re.compile(r"\b([A-Z][A-Za-z0-9_]*)\.objects\.")


def view_modules() -> list[Path]:
    files = set()
    for pattern in ("*/views.py", "*/api/views.py", "*/views/*.py", "*/*/views.py"):
        files.update(ROOT.glob(pattern))
    return sorted(p for p in files if ".venv" not in p.parts and "site-packages" not in p.parts)


def unscoped_uses(source: str, path: str) -> list[str]:
    """`Model.objects.` statements without `.for_org(` and without the system marker, as 'file:line: text'."""
    tree = ast.parse(source)
    lines = source.splitlines()
    problems = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt):
            continue
        # A compound statement (if/for/with/def) is checked on its header only; its body statements come on their own.
        body = getattr(node, "body", None)
        end = body[0].lineno - 1 if body else node.end_lineno
        segment = "\n".join(lines[node.lineno - 1 : end])
        if SYSTEM_MARKER in segment:
            continue
        compact = re.sub(r"\s*\.\s*", ".", segment)  # `Team.objects\n    .for_org(` is one statement
        for match in _OBJECTS_RE.finditer(compact):
            if compact[match.end() :].startswith("for_org(") or (path, match.group(1)) in LINT_ALLOW:
                continue
            problems.append(f"{path}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    return problems


def test_views_only_use_org_scoped_querysets():
    problems = []
    for file in view_modules():
        rel = str(file.relative_to(ROOT))
        problems += unscoped_uses(file.read_text(), rel)
    assert not problems, (
        "Views must query through `Model.objects.for_org(org)` or a selector. For a real system-wide lookup add "
        f"`{SYSTEM_MARKER}` with a reason on that statement, or an entry in LINT_ALLOW:\n" + "\n".join(problems)
    )


def test_the_lint_catches_what_it_should():
    bad = "def v(request, pk):\n    return Team.objects.get(pk=pk)\n"
    chained = "def v(request):\n    qs = Team.objects.filter(x=1).for_org(request.organization)\n"
    good = "def v(request):\n    return Team.objects.for_org(request.organization).get(pk=1)\n"
    multiline = "def v(request):\n    return (\n        Team.objects\n        .for_org(request.organization)\n    )\n"
    marked = "def v(request):\n    return Organization.objects.count()  # tenancy: system (a global number)\n"
    assert unscoped_uses(bad, "x.py") == ["x.py:2: return Team.objects.get(pk=pk)"]
    assert len(unscoped_uses(chained, "x.py")) == 1  # scoping must come first, not after another filter
    assert unscoped_uses(good, "x.py") == []
    assert unscoped_uses(marked, "x.py") == []
    assert unscoped_uses(multiline, "x.py") == []  # one statement over several lines
    in_header = "def v(request):\n    if Team.objects.exists():\n        pass\n"
    assert unscoped_uses(in_header, "x.py") == ["x.py:2: if Team.objects.exists():"]
