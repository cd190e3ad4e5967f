"""okrapp.crypto: Fernet at rest, keys from FIELD_ENCRYPTION_KEY or derived from SECRET_KEY; the column never
holds the plaintext."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import connection

from okrapp.crypto import DecryptionError, decrypt_str, derive_key, encrypt_str, reencrypt
from webhooks.models import WebhookEndpoint


def test_round_trip_and_every_encryption_differs(settings):
    settings.FIELD_ENCRYPTION_KEY = ""
    a, b = encrypt_str("whsec_abc"), encrypt_str("whsec_abc")
    assert a != b and "whsec_abc" not in a
    assert decrypt_str(a) == decrypt_str(b) == "whsec_abc"


def test_empty_key_is_derived_from_secret_key_with_hkdf(settings):
    settings.FIELD_ENCRYPTION_KEY = ""
    token = encrypt_str("hello")
    assert Fernet(derive_key(settings.SECRET_KEY)).decrypt(token.encode()) == b"hello"
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    with pytest.raises(DecryptionError):
        decrypt_str(token)
    settings.SECRET_KEY_FALLBACKS = ["test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"]
    assert decrypt_str(token) == "hello"  # the old SECRET_KEY, listed as a fallback, still decrypts


def test_explicit_keys_rotate_first_encrypts_all_decrypt(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = old
    token = encrypt_str("s3cret")
    settings.FIELD_ENCRYPTION_KEY = f"{new},{old}"
    assert decrypt_str(token) == "s3cret"
    rotated = reencrypt(token)
    settings.FIELD_ENCRYPTION_KEY = new
    assert decrypt_str(rotated) == "s3cret"
    with pytest.raises(DecryptionError):
        decrypt_str(token)


def test_a_malformed_key_stops_with_a_clear_message(settings):
    settings.FIELD_ENCRYPTION_KEY = "not-a-fernet-key"
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEY"):
        encrypt_str("x")


def test_the_signing_secret_column_never_holds_the_plaintext(make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url)
    assert endpoint.secret.startswith("whsec_")
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM webhooks_webhookendpoint WHERE id = %s", [endpoint.pk])
        (stored,) = cursor.fetchone()
    assert endpoint.secret not in stored and "whsec_" not in stored
    assert decrypt_str(stored) == endpoint.secret
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret == endpoint.secret  # read back decrypted


def test_an_encrypted_column_cannot_be_searched(db):
    with pytest.raises(FieldError, match="encrypted"):
        WebhookEndpoint.objects.filter(secret="whsec_guess").exists()
    assert not WebhookEndpoint.objects.filter(previous_secret__isnull=True).exists()


def test_an_encrypted_column_can_be_compared_with_the_empty_string_only(db):
    # "" is stored unencrypted, so `= ''` is correct: it answers "is the secret set?".
    from accounts.models import Organization

    with_hook = Organization.objects.create(name="A", slug="a-crypto", slack_webhook_url="https://hooks.slack.com/x")
    without = Organization.objects.create(name="B", slug="b-crypto")
    assert list(Organization.objects.filter(slug__endswith="-crypto", slack_webhook_url="")) == [without]
    assert list(Organization.objects.filter(slug__endswith="-crypto").exclude(slack_webhook_url="")) == [with_hook]
    assert not WebhookEndpoint.objects.filter(previous_secret="").exists()
    assert Organization.objects.filter(pk=without.pk, slack_webhook_url=None).count() == 0  # None: IS NULL


@pytest.mark.parametrize(
    "lookup",
    [
        {"secret": "whsec_guess"},
        {"secret__exact": "whsec_guess"},
        {"secret__iexact": ""},
        {"secret__in": [""]},
        {"secret__startswith": ""},
        {"secret__contains": "whsec"},
        {"secret__gt": ""},
    ],
)
def test_an_encrypted_column_refuses_every_other_comparison(db, lookup):
    with pytest.raises(FieldError, match="encrypted"):
        WebhookEndpoint.objects.filter(**lookup).exists()
    with pytest.raises(FieldError, match="encrypted"):
        WebhookEndpoint.objects.exclude(**lookup).exists()


def test_an_encrypted_column_cannot_be_compared_with_another_column(db):
    from django.db.models import F

    with pytest.raises(FieldError, match="encrypted"):
        WebhookEndpoint.objects.filter(secret=F("previous_secret")).exists()
