"""Bench: p50/p95 of the cycle page and the objectives list API next to an authenticated trivial view (floor) and a
raw-SQL + orjson view returning the same rows, measured in one run against gunicorn -w 2 (DESIGN.md §10).

    DEBUG=true DATABASE_URL=postgres://…/okrapp_bench REDIS_URL=redis://127.0.0.1:6379/N \
        .venv/bin/python bench/run.py [--requests 300] [--page-requests 40] [--concurrency 2] [--write-readme]
        [--only API,page] [--state bench/.bench.json]

The first run migrates the database and generates the data (bench/generate.py) when bench/.bench.json is missing
or names an org this database does not have; later runs reuse it. gunicorn listens on 127.0.0.1 on a free port and
is stopped at the end. Each target is bounded in count and in time (--max-seconds); the load generator (threads +
requests) runs on the same box.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
STATE_FILE = ROOT / "bench" / ".bench.json"
README = ROOT / "bench" / "README.md"
BEGIN, END = "<!-- okr-bench:begin -->", "<!-- okr-bench:end -->"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


BENCH_SECRET = "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "okrapp.settings")
    os.environ["SECRET_KEY"] = os.environ.get("SECRET_KEY") or BENCH_SECRET  # gunicorn signs with the same key
    import django

    django.setup()


def session_cookie(email: str) -> str:
    """A logged-in session for the bench org's owner, created directly in the session store."""
    setup_django()
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.models import User

    user = User.objects.get(email=email)
    store = import_module(settings.SESSION_ENGINE).SessionStore() if settings.SESSION_ENGINE else SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return store.session_key


def page_url_exists() -> bool:
    from django.urls import NoReverseMatch, reverse

    try:
        reverse("objectives:cycle_detail", args=["x", "00000000-0000-0000-0000-000000000000"])
    except NoReverseMatch:
        return False
    return True


def page_ids(slug: str, cycle: str) -> tuple[str, str]:
    """A team with team objectives in the cycle, and an objective of the cycle, for the page targets."""
    from objectives.models import Objective

    rows = Objective.objects.filter(organization__slug=slug, cycle__public_id=cycle, level="team")
    first = rows.select_related("team").order_by("position").first()
    return str(first.team.public_id), str(first.public_id)


def my_week_rows(slug: str, email: str) -> tuple[int, int]:
    """How many KR and initiative rows the bench owner's My week page draws (checkins:my_week)."""
    from accounts.models import Membership
    from checkins import selectors

    me = Membership.objects.select_related("organization").get(organization__slug=slug, user__email=email)
    week = selectors.my_week(org=me.organization, membership=me)
    return len(week.key_results), len(week.initiatives)


def start_gunicorn(port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or BENCH_SECRET,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "STATIC_MANIFEST": "false",
        "LOG_LEVEL": "WARNING",
        "API_TOKEN_RATE": "1000000/min",  # ~1,500 token requests a minute would otherwise hit the throttle (429)
    }
    cmd = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "okrapp.wsgi:application",
        "-w",
        "2",
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("gunicorn did not start")


def measure(url: str, *, n: int, concurrency: int, max_seconds: float, warmup: int = 3, **kwargs) -> dict:
    """Fire n GETs from `concurrency` threads (each with its own keep-alive session); latencies in ms."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(n))
    stop_at = time.perf_counter() + max_seconds

    def worker():
        with requests.Session() as http:
            for _ in range(warmup):  # warm up this connection and the worker's caches
                http.get(url, timeout=30, allow_redirects=False, **kwargs)
            while time.perf_counter() < stop_at:
                with lock:
                    if next(counter, None) is None:
                        return
                t0 = time.perf_counter()
                r = http.get(url, timeout=30, allow_redirects=False, **kwargs)
                elapsed = (time.perf_counter() - t0) * 1000
                with lock:
                    latencies.append(elapsed)
                    if r.status_code != 200:
                        errors.append(f"{r.status_code}")

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"latencies": latencies, "errors": len(errors), "wall": time.perf_counter() - started}


def summarize(runs: list[dict]) -> dict:
    latencies = sorted(x for r in runs for x in r["latencies"])
    wall = sum(r["wall"] for r in runs)
    q = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else latencies * 100
    return {
        "n": len(latencies),
        "errors": sum(r["errors"] for r in runs),
        "p50": statistics.median(latencies),
        "p95": q[94],
        "rps": len(latencies) / wall if wall else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--page-requests", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--max-seconds", type=float, default=60)
    parser.add_argument("--rounds", type=int, default=10, help="interleave the targets over this many rounds")
    parser.add_argument("--write-readme", action="store_true")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated words: measure only the targets whose label contains one of them (e.g. 'API'); "
        "the floor and the raw-SQL baseline are always measured",
    )
    parser.add_argument("--state", default=str(STATE_FILE), help="state file written by bench/generate.py")
    args = parser.parse_args()
    if args.only and args.write_readme:
        parser.error("--write-readme records the table of every target: leave out --only")
    setup_django()
    if Path(args.state) == STATE_FILE:
        from bench.generate import generate_and_save
        from bench.state import load_or_generate

        state = load_or_generate(STATE_FILE, generate_and_save, "5,000 objectives, 15,000 KRs, 20,000 initiatives")
    else:
        state = json.loads(Path(args.state).read_text())
    cookie = session_cookie(state["owner_email"])
    has_page = page_url_exists()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    slug, cycle = state["slug"], state["cycle"]
    auth = {"headers": {"Authorization": f"Bearer {state['token']}"}}
    targets = [
        ("floor: GET /me (token, trivial)", f"{base}/api/v1/o/{slug}/me", args.requests, auth),
        ("raw SQL + orjson, same 50 objectives", f"{base}/bench/o/{slug}/objectives-raw", args.requests, auth),
        ("API objectives list (50/page)", f"{base}/api/v1/o/{slug}/objectives", args.requests, auth),
        ("API objectives list, cycle filter", f"{base}/api/v1/o/{slug}/objectives?cycle={cycle}", args.requests, auth),
        ("API key-results list (50/page)", f"{base}/api/v1/o/{slug}/key-results", args.requests, auth),
    ]
    if has_page:
        session = {"cookies": {"sessionid": cookie}}
        team, objective = page_ids(slug, cycle)
        targets += [
            (
                f"cycle page ({state['cycle_objectives']} objectives)",
                f"{base}/o/{slug}/cycles/{cycle}/",
                args.page_requests,
                session,
            ),
            (
                "cycle page: open one team's group (htmx)",
                f"{base}/o/{slug}/cycles/{cycle}/board/group/?group=team:{team}",
                args.page_requests,
                session,
            ),
            (
                "cycle page, search 'partner' (a KR title: 1 in 5 objectives)",
                f"{base}/o/{slug}/cycles/{cycle}/?q=partner",
                args.page_requests,
                session,
            ),
            (
                f"cycle CSV export ({state['cycle_objectives']} objectives, a row per KR)",
                f"{base}/o/{slug}/cycles/{cycle}/export.csv",
                max(args.page_requests // 4, 5),
                session,
            ),
            ("objective page", f"{base}/o/{slug}/objectives/{objective}/", args.page_requests, session),
            ("dashboard (current cycle summary)", f"{base}/o/{slug}/", args.page_requests, session),
        ]
        week_krs, week_initiatives = my_week_rows(slug, state["owner_email"])
        targets.append(
            (
                f"My week ({week_krs} KRs + {week_initiatives} initiatives, one form)",
                f"{base}/o/{slug}/my-week/",
                args.page_requests,
                session,
            )
        )
    if args.only:
        words = [w.strip() for w in args.only.split(",") if w.strip()]
        targets = targets[:2] + [t for t in targets[2:] if any(w in t[0] for w in words)]
    proc = start_gunicorn(port)
    load_before = os.getloadavg()
    results = []
    try:
        # Round-robin: every target gets a slice of its requests in each round, so that all of them see the same
        # background load on a shared machine and their ratios to the floor stay meaningful.
        runs: dict[str, list[dict]] = {label: [] for label, *_ in targets}
        for round_ in range(args.rounds):
            for label, url, n, kwargs in targets:
                share = n // args.rounds + (1 if round_ < n % args.rounds else 0)
                if share:
                    runs[label].append(
                        measure(
                            url,
                            n=share,
                            concurrency=args.concurrency,
                            max_seconds=args.max_seconds / args.rounds,
                            warmup=3 if round_ == 0 else 1,
                            **kwargs,
                        )
                    )
        for label, *_ in targets:
            r = summarize(runs[label])
            results.append((label, r))
            print(
                f"{label:45s} n={r['n']:4d} err={r['errors']:3d} p50={r['p50']:7.1f} ms "
                f"p95={r['p95']:7.1f} ms {r['rps']:7.1f} req/s",
                flush=True,
            )
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    floor = results[0][1]
    raw = results[1][1]
    lines = [
        f"Data: {state['objectives']} objectives, {state['key_results']} KRs, {state['initiatives']} initiatives "
        f"in one org; gunicorn -w 2, {args.concurrency} client threads on the same box; targets interleaved over "
        f"{args.rounds} rounds.",
        "",
        "| target | n | p50 ms | p95 ms | req/s | p50 ÷ floor | p50 ÷ raw SQL |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, r in results:
        lines.append(
            f"| {label} | {r['n']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['rps']:.0f} | "
            f"{r['p50'] / floor['p50']:.2f}× | {r['p50'] / raw['p50']:.2f}× |"
        )
    load_after = os.getloadavg()
    lines.append("")
    before, after = (" ".join(f"{x:.2f}" for x in load) for load in (load_before, load_after))
    lines.append(f"Load average (1/5/15 min) before the run: {before}; after: {after} (shared 2-core box).")
    if not has_page:
        lines.append("")
        lines.append("The cycle page URL (objectives:cycle_detail) is not present; only the API was measured.")
    table = "\n".join(lines)
    print()
    print(table)
    if args.write_readme:
        text = README.read_text() if README.exists() else "# Benchmarks\n"
        block = f"{BEGIN}\n{table}\n{END}"
        if BEGIN in text:
            text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
        else:
            text = text.rstrip() + "\n\n## OKR pages and lists (bench/run.py)\n\n" + block + "\n"
        README.write_text(text)


if __name__ == "__main__":
    main()
