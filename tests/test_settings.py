"""Settings come from the environment and fail fast; production values pass `check --deploy` cleanly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "prod-like-secret-key-9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5",
    "ALLOWED_HOSTS": "okr.example.com",
    "DATABASE_URL": "postgres://okrapp:secret@db.example.com:5432/okrapp",
    "REDIS_URL": "redis://redis.example.com:6379/0",
}


def run_django(env_vars: dict, *args: str) -> subprocess.CompletedProcess:
    """Start Django in a fresh interpreter with exactly these variables (nothing inherited from this test run)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    env |= {"DJANGO_SETTINGS_MODULE": "okrapp.settings", "PYTHONDONTWRITEBYTECODE": "1", **env_vars}
    command = [sys.executable, *(args or ("-c", "import django; django.setup()"))]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_production_env_starts():
    result = run_django(PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"])
def test_missing_required_variable_stops_startup_naming_it(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = run_django(env)
    assert result.returncode != 0
    assert f"The environment variable {missing} is required when DEBUG is false." in result.stderr


def test_debug_defaults_to_false_so_an_empty_env_refuses_to_start():
    result = run_django({})
    assert result.returncode != 0 and "SECRET_KEY is required" in result.stderr


def test_a_typo_in_a_boolean_fails_loudly():
    result = run_django({**PRODUCTION_ENV, "DEBUG": "ture"})
    assert result.returncode != 0 and "DEBUG must be true or false" in result.stderr


def test_debug_true_needs_nothing_else():
    result = run_django(
        {"DEBUG": "true"},
        "-c",
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DEBUG, settings.ALLOWED_HOSTS)",
    )
    assert result.returncode == 0, result.stderr
    assert "True ['127.0.0.1', 'localhost']" in result.stdout


def test_check_deploy_reports_no_issues_with_production_values():
    # --fail-level WARNING: any deployment warning (HSTS, cookies, SSL redirect, SECRET_KEY...) fails the command.
    result = run_django(PRODUCTION_ENV, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_atomic_requests_is_on():
    assert settings.DATABASES["default"]["ATOMIC_REQUESTS"] is True


@pytest.mark.django_db
def test_security_headers_csp_without_inline_scripts_and_no_framing(client):
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    directives = dict(
        (d.strip().split(" ", 1) + [""])[:2] for d in response["Content-Security-Policy"].split(";") if d.strip()
    )
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in directives["script-src"] and "unsafe-eval" not in directives["script-src"]
    assert directives["frame-ancestors"] == "'none'"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_pages_have_no_inline_scripts(client, member):
    # CSP would block them in the browser; catch it here instead.
    client.force_login(member.user)
    for url in (reverse("account_login"), reverse("accounts:members", args=[member.organization.slug])):
        html = client.get(url).content.decode()
        for tag in html.split("<script")[1:]:
            assert "src=" in tag.split(">", 1)[0], f"inline <script> on {url}"


def test_every_environment_variable_is_documented_in_env_example():
    import re

    read = set(re.findall(r'env_(?:str|bool|int|list)\(\s*"([A-Z0-9_]+)"', (ROOT / "okrapp/settings.py").read_text()))
    documented = set(re.findall(r"^#?\s*([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), flags=re.M))
    assert read, "no env reads found: did settings.py stop using okrapp.env?"
    assert not read - documented, f"add these to .env.example with a comment: {sorted(read - documented)}"
    assert not documented - read, f"documented but never read by settings.py: {sorted(documented - read)}"
