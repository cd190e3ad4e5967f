"""docker-compose.yml carries the production process layout of DESIGN.md §5 (no Docker engine needed here)."""

import shlex
from pathlib import Path

import pytest
import yaml

COMPOSE = Path(__file__).resolve().parent.parent / "docker-compose.yml"
APP_SERVICES = ("migrate", "web", "worker", "beat")


@pytest.fixture(scope="module")
def services():
    return yaml.safe_load(COMPOSE.read_text())["services"]


def argv(service: dict) -> list[str]:
    command = service["command"]
    return command if isinstance(command, list) else shlex.split(command)


def test_has_every_process(services):
    assert set(services) >= {"db", "redis", "migrate", "web", "worker", "beat"}


def test_app_processes_share_one_image_and_env_file(services):
    assert len({services[name]["image"] for name in APP_SERVICES}) == 1
    for name in APP_SERVICES:
        assert services[name]["build"] == "."
        assert services[name]["env_file"] == ".env"


def test_db_is_postgres_16_with_pg_isready_healthcheck(services):
    db = services["db"]
    assert db["image"] == "postgres:16"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])


def test_redis_is_redis_7_with_ping_healthcheck(services):
    redis = services["redis"]
    assert redis["image"] == "redis:7"
    assert redis["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]


def test_commands(services):
    assert argv(services["migrate"]) == ["python", "manage.py", "migrate", "--noinput"]
    web = argv(services["web"])
    assert web[:2] == ["gunicorn", "okrapp.wsgi"]
    assert "0.0.0.0:8000" in web
    worker = argv(services["worker"])
    assert worker[:4] == ["celery", "-A", "okrapp", "worker"]
    assert worker[worker.index("-Q") + 1] == "celery,integrations"
    assert argv(services["beat"])[:4] == ["celery", "-A", "okrapp", "beat"]


def test_migrate_runs_once_after_a_healthy_db(services):
    migrate = services["migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_app_waits_for_healthy_db_and_redis_and_finished_migrate(services, name):
    depends_on = services[name]["depends_on"]
    assert depends_on["db"]["condition"] == "service_healthy"
    assert depends_on["redis"]["condition"] == "service_healthy"
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"


def test_exactly_one_beat(services):
    assert services["beat"]["deploy"]["replicas"] == 1
