"""Secrets at rest (webhook signing secrets, integration tokens): Fernet, keyed by settings.FIELD_ENCRYPTION_KEY.

Fernet is AES-128-CBC with an HMAC-SHA256 over the ciphertext, so a tampered or foreign value fails to decrypt
instead of decrypting to garbage. Each encryption uses a fresh IV: equal plaintexts give different tokens, which
is why an encrypted column cannot be searched (EncryptedTextField refuses lookups other than isnull and `= ""`).

Keys:
- FIELD_ENCRYPTION_KEY: one or more Fernet keys (urlsafe base64 of 32 bytes), comma-separated. The first key
  encrypts; every key decrypts. To rotate, put the new key first and keep the old one after it until every row
  was re-saved (`reencrypt()`), then drop it.
- Empty (the default for `make run` and tests): the key is derived from SECRET_KEY with HKDF-SHA256 (salt
  "okrapp.crypto", info "field-encryption-v1"), and keys derived from SECRET_KEY_FALLBACKS still decrypt. Changing
  SECRET_KEY without listing the old one in SECRET_KEY_FALLBACKS makes the stored secrets unreadable, so
  production deployments should set FIELD_ENCRYPTION_KEY explicitly.
"""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import models
from django.db.models.lookups import Exact

HKDF_SALT = b"okrapp.crypto"
HKDF_INFO = b"field-encryption-v1"


class DecryptionError(Exception):
    """A stored value does not decrypt with any configured key (wrong or rotated-away key, or tampering)."""


def derive_key(secret: str) -> bytes:
    """A Fernet key derived from a Django SECRET_KEY (HKDF-SHA256, 32 bytes, urlsafe base64)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=HKDF_SALT, info=HKDF_INFO)
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode()))


def _key_material() -> tuple[str, ...]:
    configured = [k.strip() for k in (settings.FIELD_ENCRYPTION_KEY or "").split(",") if k.strip()]
    if configured:
        return tuple(configured)
    fallbacks = getattr(settings, "SECRET_KEY_FALLBACKS", None) or []
    return tuple(derive_key(s).decode() for s in [settings.SECRET_KEY, *fallbacks])


@functools.lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except (ValueError, TypeError):
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be Fernet keys (urlsafe base64 of 32 bytes), comma-separated."
        ) from None


def fernet() -> MultiFernet:
    """The current key ring (cached per key material, so settings overrides in tests take effect)."""
    return _fernet(_key_material())


def encrypt_str(plaintext: str) -> str:
    """Encrypt text with the first key; the token is ASCII (safe for a text column)."""
    return fernet().encrypt(plaintext.encode()).decode("ascii")


def decrypt_str(token: str) -> str:
    """Decrypt a token from encrypt_str with any configured key; DecryptionError if none fits."""
    try:
        return fernet().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError):
        raise DecryptionError(
            "A stored secret could not be decrypted: FIELD_ENCRYPTION_KEY (or SECRET_KEY) changed without keeping "
            "the old key. Add the old key after the new one (FIELD_ENCRYPTION_KEY=new,old)."
        ) from None


def reencrypt(token: str) -> str:
    """Re-encrypt a token under the first key (for key rotation)."""
    return fernet().rotate(token.encode("ascii")).decode("ascii")


class EmptyOnlyExact(Exact):
    """`= ''` on an encrypted column: correct because "" is stored unencrypted. Any other value is refused, since
    comparing a plaintext (or a fresh encryption of it) with the stored tokens can never match."""

    def get_prep_lookup(self):
        if self.rhs is not None and (not isinstance(self.rhs, str) or self.rhs != ""):
            raise FieldError(
                f"{self.lhs.output_field.name} is encrypted: it can only be compared with an empty string."
            )
        return super().get_prep_lookup()


class EncryptedTextField(models.TextField):
    """A text column stored Fernet-encrypted; Python code only ever sees the plaintext.

    "" and None are stored as they are (an empty secret is no secret). The column cannot be searched: every
    encryption differs, so the only lookups are `isnull` and `exact` with "" (`.exclude(secret="")`: "is it set").
    Load it only where the secret is needed (`.defer()` it on lists and hot paths), since decryption fails loudly
    when the key is wrong.
    """

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt_str(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_str(value)

    def get_lookup(self, lookup_name):
        if lookup_name == "exact":
            return EmptyOnlyExact
        if lookup_name != "isnull":
            raise FieldError(f"{self.name} is encrypted: it cannot be filtered with __{lookup_name}.")
        return super().get_lookup(lookup_name)
