"""Test settings: production settings with the few values a test run cannot take from a deployment.

DATABASE_URL and REDIS_URL still come from the environment (`make test` starts real PostgreSQL and Redis).
"""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SECURE_COOKIES", "false")
os.environ.setdefault("STATIC_MANIFEST", "false")
os.environ.setdefault("DEV_OUTBOX_ENABLED", "true")
os.environ.setdefault("CACHE_KEY_PREFIX", "okrapp-test")
os.environ.setdefault("WEBHOOKS_ALLOW_PRIVATE_HOSTS", "true")  # webhook tests post to a server on 127.0.0.1

from okrapp.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
