"""Slack incoming-webhook URLs (org and team) are secrets: Fernet-encrypted in the column, plaintext in Python; the
migration 0004 encrypts the URLs stored before it and its reverse decrypts them."""

import importlib

import pytest
from django.db import connection

from accounts.models import Organization, Team
from okrapp.crypto import decrypt_str, encrypt_str

URL = "https://hooks.slack.com/services/T0001/B0002/abcdefghijklmnopqrstuvwx"
TEAM_URL = "https://hooks.slack.com/services/T0001/B0003/zyxwvutsrqponmlkjihgfedc"

migration = importlib.import_module("accounts.migrations.0004_encrypt_slack_webhook_urls")


def raw(table: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT slack_webhook_url FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def set_raw(table: str, pk: int, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET slack_webhook_url = %s WHERE id = %s", [value, pk])  # noqa: S608


class FakeSchemaEditor:
    """What RunPython hands the migration functions; they only use .connection."""

    connection = connection


def test_the_org_webhook_column_never_holds_the_plaintext(org):
    org.slack_webhook_url = URL
    org.save()
    stored = raw("accounts_organization", org.pk)
    assert stored.startswith("gAAAA") and "hooks.slack.com" not in stored and "abcdefgh" not in stored
    assert decrypt_str(stored) == URL
    assert Organization.objects.get(pk=org.pk).slack_webhook_url == URL  # read back decrypted


def test_the_team_webhook_column_never_holds_the_plaintext(org):
    team = Team.objects.create(organization=org, name="Core", slack_webhook_url=TEAM_URL)
    stored = raw("accounts_team", team.pk)
    assert stored.startswith("gAAAA") and "hooks.slack.com" not in stored
    assert Team.objects.get(pk=team.pk).slack_webhook_url == TEAM_URL


def test_no_webhook_is_stored_as_an_empty_string(org):
    Team.objects.create(organization=org, name="Core")
    assert raw("accounts_organization", org.pk) == ""
    assert Team.objects.for_org(org).exclude(slack_webhook_url="").count() == 0


def test_migration_encrypts_plaintext_urls_and_its_reverse_decrypts_them(org, other_org):
    team = Team.objects.create(organization=org, name="Core")
    already = encrypt_str(TEAM_URL)
    # Rows as the migration finds them: plaintext URLs (org, team), no URL (other_org) and, for a re-run, a token.
    set_raw("accounts_organization", org.pk, URL)
    set_raw("accounts_team", team.pk, TEAM_URL)
    other_team = Team.objects.create(organization=other_org, name="Theirs")
    set_raw("accounts_team", other_team.pk, already)

    migration.encrypt_urls(None, FakeSchemaEditor())

    org_token, team_token = raw("accounts_organization", org.pk), raw("accounts_team", team.pk)
    assert org_token.startswith("gAAAA") and team_token.startswith("gAAAA")
    assert (decrypt_str(org_token), decrypt_str(team_token)) == (URL, TEAM_URL)
    assert raw("accounts_organization", other_org.pk) == ""
    assert raw("accounts_team", other_team.pk) == already  # a token is not encrypted a second time
    assert Organization.objects.get(pk=org.pk).slack_webhook_url == URL

    migration.decrypt_urls(None, FakeSchemaEditor())

    assert raw("accounts_organization", org.pk) == URL and raw("accounts_team", team.pk) == TEAM_URL
    assert raw("accounts_team", other_team.pk) == TEAM_URL
    assert raw("accounts_organization", other_org.pk) == ""


@pytest.mark.parametrize("value", [URL, "not a url, but stored before the migration", "https://exämple.test/ü"])
def test_migration_encrypts_whatever_plaintext_it_finds(org, value):
    set_raw("accounts_organization", org.pk, value)
    migration.encrypt_urls(None, FakeSchemaEditor())
    assert decrypt_str(raw("accounts_organization", org.pk)) == value
