"""Random secrets and their hashes (invitation links, API tokens). Only hashes are stored."""

import hashlib
import hmac
import secrets


def new_secret(nbytes: int = 30) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secrets_match(secret: str, expected_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), expected_hash)
