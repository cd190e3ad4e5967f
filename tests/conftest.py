"""Shared fixtures: two organizations in every set (STYLE.md c.10)."""

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import api_token_create
from tests.factories import MembershipFactory, OrganizationFactory, verified_email


@pytest.fixture(autouse=True)
def _clean_cache():
    """Rate-limit counters and throttles live in Redis; every test starts from zero.

    Only our cache keys go: cache.clear() would FLUSHDB, taking queued Celery messages (same Redis db) with it.
    """
    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{settings.CACHES['default']['KEY_PREFIX']}:*", count=1000))
    if keys:
        client.delete(*keys)
    yield


@pytest.fixture
def org(db):
    return OrganizationFactory(name="Acme", slug="acme")


@pytest.fixture
def other_org(db):
    return OrganizationFactory(name="Globex", slug="globex")


def _member(org, role, email):
    membership = MembershipFactory(organization=org, role=role, user__email=email)
    verified_email(membership.user)
    return membership


@pytest.fixture
def owner(org):
    return _member(org, Role.OWNER, "owner@acme.test")


@pytest.fixture
def admin(org):
    return _member(org, Role.ADMIN, "admin@acme.test")


@pytest.fixture
def member(org):
    return _member(org, Role.MEMBER, "member@acme.test")


@pytest.fixture
def viewer(org):
    return _member(org, Role.VIEWER, "viewer@acme.test")


@pytest.fixture
def outsider(other_org):
    """An OWNER of the other organization: full rights there, none here."""
    return _member(other_org, Role.OWNER, "owner@globex.test")


@pytest.fixture
def client_for(client):
    """client_for(membership) → a Django test client logged in as that member."""

    def make(membership):
        client.force_login(membership.user)
        return client

    return make


@pytest.fixture
def api_client_for():
    """api_client_for(membership) → a DRF client authenticating with a fresh API token of that member."""

    def make(membership):
        _, secret = api_token_create(actor=membership, name="test")
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return api

    return make
