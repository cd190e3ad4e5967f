"""scripts/services.py (behind make run / make test) and the Makefile contract around it."""

import importlib.util
import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("okr_services", REPO / "scripts" / "services.py")
services = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(services)


def test_pytest_args_after_double_dash_reach_pytest_untouched():
    assert services.parse_args(["test", "--", "-k", "foo", "-x"]).rest == ["-k", "foo", "-x"]
    assert services.parse_args(["test", "--"]).rest == []
    args = services.parse_args(["exec", "--profile", "bench", "--", "python", "bench/run.py", "-v"])
    assert (args.profile, args.rest) == ("bench", ["python", "bench/run.py", "-v"])


def test_app_env_precedence_defaults_then_environment_then_service_urls(monkeypatch):
    monkeypatch.setenv("DEBUG", "false")
    monkeypatch.setenv("DATABASE_URL", "postgres://elsewhere/x")
    env = services.app_env({"DATABASE_URL": "postgres://here/okrapp"}, DEBUG="true", SITE_URL="http://a")
    assert (env["DEBUG"], env["SITE_URL"], env["DATABASE_URL"]) == ("false", "http://a", "postgres://here/okrapp")


def test_free_port_prefers_the_given_port_and_falls_back_when_taken():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        taken = sock.getsockname()[1]
        assert not services.port_free(taken)
        assert services.free_port(taken) != taken


def test_data_goes_outside_a_repo_the_postgres_user_cannot_reach(tmp_path, monkeypatch):
    private = tmp_path / "home"
    repo = private / "okrapp"
    repo.mkdir(parents=True)
    private.chmod(0o700)
    monkeypatch.setattr(services, "REPO", repo)
    monkeypatch.setattr(services, "OUTSIDE_ROOT", tmp_path / "var-tmp")
    (tmp_path / "var-tmp").mkdir()
    monkeypatch.setattr(os, "geteuid", lambda: 0)

    root = services.data_root()

    assert root.parent == tmp_path / "var-tmp"
    assert root.name.startswith("okrapp-")
    assert (repo / ".data").resolve() == root


def test_data_stays_in_the_repo_for_a_normal_user(tmp_path, monkeypatch):
    monkeypatch.setattr(services, "REPO", tmp_path)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert services.data_root() == tmp_path / ".data"


def test_test_services_start_answer_and_leave_nothing_behind(monkeypatch):
    """The same start/stop `make test` uses, in a throwaway dir next to the one running this suite."""
    psycopg = pytest.importorskip("psycopg")
    redis = pytest.importorskip("redis")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr(services, "ignore_signals", lambda: None)  # keep pytest's own Ctrl-C handling
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}

    with services.services("test") as urls:
        with psycopg.connect(urls["DATABASE_URL"].replace("postgres://", "postgresql://")) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("okrapp",)
        assert redis.Redis.from_url(urls["REDIS_URL"]).ping()
        test_dir = services.data_root() / f"test-{os.getpid()}"
        pids = [
            services.read_pid(test_dir / "pg" / "postmaster.pid"),
            services.read_pid(test_dir / "redis" / "redis.pid"),
        ]
        assert all(pids)

    assert not any(services.pid_alive(pid) for pid in pids)
    assert not test_dir.exists()
    assert {sig: signal.getsignal(sig) for sig in handlers} == handlers


def test_makefile_targets_and_ci_entry_point():
    dry_run = subprocess.run(["make", "-n", "test", "ARGS=-k foo"], cwd=REPO, capture_output=True, text=True)
    assert "scripts/services.py test -- -k foo" in dry_run.stdout
    assert "ruff format --check ." in dry_run.stdout
    assert "ruff check ." in dry_run.stdout
    help_text = subprocess.run(["make"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    for target in ("run", "test", "lint", "fmt", "shell", "bench", "services", "clean-data"):
        assert f"make {target} " in help_text
    ci = REPO / ".ci" / "run"
    assert os.access(ci, os.X_OK)
    assert "make test" in ci.read_text()


def test_make_run_serves_the_dev_server_without_persistent_connections(monkeypatch):
    """runserver's thread per request would keep one DB connection per thread open with CONN_MAX_AGE > 0."""
    argv, env = services.web_command(8000, {"CONN_MAX_AGE": "60", "DEBUG": "true"})
    assert "runserver" in argv
    assert env == {"CONN_MAX_AGE": "0", "DEBUG": "true"}
    source = (REPO / "scripts" / "services.py").read_text()
    assert 'supervisor.start("web", *web_command(' in source  # cmd_run starts the web server through it
