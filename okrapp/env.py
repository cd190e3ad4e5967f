"""Strict environment readers (healthchecks style): a typo fails loudly instead of silently defaulting."""

import os

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str | None = None, *, required: bool = False) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if required:
            raise ImproperlyConfigured(f"The environment variable {name} is required when DEBUG is false.")
        return default or ""
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value == "":
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}.") from None


def env_list(name: str, default: list[str] | None = None, *, required: bool = False) -> list[str]:
    raw = env_str(name, required=required)
    if not raw:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]
