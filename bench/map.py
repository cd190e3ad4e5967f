"""Bench: the alignment map (DESIGN.md §10) and the check-in submit, measured in ONE run against gunicorn -w 2.

    DEBUG=true DATABASE_URL=postgres://…/okrapp_hN REDIS_URL=redis://127.0.0.1:6379/N \
        .venv/bin/python bench/map.py [--generate] [--requests 60] [--concurrency 2] [--write-readme]

--generate builds the org with bench/generate.py's generator (5,000 objectives / 15,000 KRs / 20,000 initiatives,
slug "mapbench") and then aligns it into a cascade: every team/personal objective is aligned to a KR of a company
objective of its cycle or the year (a few to the objective as a whole, 3% left as orphans), plus 500 secondary
contributions. State goes to bench/.map-bench.json (bench/.bench.json belongs to bench/run.py). Without --generate
the first run does the same when that file is missing or names an org the database does not have (it migrates the
database first); later runs reuse the org.

Targets, each bounded in count (--requests) and time (--max-seconds), 2 client threads on the same box:
  floor        GET /api/v1/o/<org>/me (token): an authenticated trivial view
  map API      GET /api/v1/o/<org>/map?cycle=…  for the current quarter (+ its year) and for the whole year
  map page     GET /o/<org>/map/?cycle=…        (session), same two cycles: the first paint (tree, filters)
  panel        GET /o/<org>/map/?cycle=…&panel=warnings: the warnings panel and counts the page loads right after
  raw SQL      the same JSON as the map API's default (compact) response, from hand-written SQL on a cursor (no
               ORM, no DRF) + the same pure nesting (objectives.map) + orjson (bench/map_urls.py); checked equal
               to the API's body before measuring
  rows floor   the same rows (KR facts judged by PostgreSQL included), nested objective → KRs, orjson; no tree
  detail       the map API with reasons in words (detail=signals), quarter only
  check-in     POST /api/v1/o/<org>/key-results/<id>/check-ins (token), rotating over 200 KRs
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# The session cookie made here must be signed with the key gunicorn uses: set it before Django is set up.
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
from bench.run import BENCH_SECRET, free_port, session_cookie  # noqa: E402

STATE_FILE = ROOT / "bench" / ".map-bench.json"
README = ROOT / "bench" / "README.md"
SLUG = "mapbench"


# --- Data ---------------------------------------------------------------------------------------------------------
def generate_and_align(n_objectives: int) -> dict:
    from bench.generate import generate  # sets up Django (okrapp.settings)

    state = generate(slug=SLUG, n_objectives=n_objectives)
    from django.db import connection, transaction

    from objectives.models import Contribution, Cycle, KeyResult, Objective

    rnd = random.Random(11)
    with transaction.atomic():
        objectives = list(Objective.objects.filter(organization__slug=SLUG).values("id", "level", "cycle_id"))
        cycles = {c.id: c for c in Cycle.objects.filter(organization__slug=SLUG)}
        company_krs: dict[int, list[tuple[int, int]]] = {}
        for kr_id, objective_id, cycle_id in KeyResult.objects.filter(
            organization__slug=SLUG, objective__level="company"
        ).values_list("id", "objective_id", "objective__cycle_id"):
            company_krs.setdefault(cycle_id, []).append((kr_id, objective_id))
        updates = []
        for o in objectives:
            if o["level"] == "company" or rnd.random() < 0.03:
                continue
            cycle = cycles[o["cycle_id"]]
            pool = company_krs.get(cycle.pk, []) + company_krs.get(cycle.parent_id, [])
            if not pool:
                continue
            kr_id, objective_id = rnd.choice(pool)
            if rnd.random() < 0.15:
                updates.append(Objective(id=o["id"], parent_objective_id=objective_id, parent_key_result_id=None))
            else:
                updates.append(Objective(id=o["id"], parent_key_result_id=kr_id, parent_objective_id=None))
        Objective.objects.bulk_update(updates, ["parent_objective", "parent_key_result"], batch_size=2000)
        org_id = Objective.objects.filter(organization__slug=SLUG).values_list("organization_id", flat=True)[0]
        all_krs = list(KeyResult.objects.filter(organization__slug=SLUG).values_list("id", flat=True))
        edges = {(rnd.choice(objectives)["id"], rnd.choice(all_krs)) for _ in range(500)}
        Contribution.objects.bulk_create(
            [Contribution(organization_id=org_id, objective_id=o, key_result_id=k, weight=0.5) for o, k in edges],
            ignore_conflicts=True,
        )
        year = next(c for c in cycles.values() if c.kind == "year")
        increase_krs = list(
            KeyResult.objects.filter(organization__slug=SLUG, kind="increase", title__startswith="Increase")
            .order_by("id")
            .values_list("public_id", flat=True)[:200]
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    state.update(year=str(year.public_id), aligned=len(updates), checkin_krs=[str(k) for k in increase_krs])
    STATE_FILE.write_text(json.dumps(state, indent=2))
    return state


# --- Load ---------------------------------------------------------------------------------------------------------
def start_gunicorn(port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.map_settings",
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or BENCH_SECRET,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "STATIC_MANIFEST": "false",
        "LOG_LEVEL": "WARNING",
        "API_TOKEN_RATE": "1000000/min",  # the check-in target would otherwise hit the token throttle
    }
    cmd = [str(ROOT / ".venv/bin/gunicorn"), "okrapp.wsgi:application", "-w", "2", "-b", f"127.0.0.1:{port}"]
    proc = subprocess.Popen(
        [*cmd, "--log-level", "warning", "--timeout", "120"], cwd=ROOT, env=env, start_new_session=True
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except requests.RequestException:
            time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGTERM)
    raise SystemExit("gunicorn did not start")


def measure(call, *, n: int, concurrency: int, max_seconds: float, warmup: int = 2) -> dict:
    """`call(session)` → response, fired n times from `concurrency` threads; latencies in ms."""
    latencies: list[float] = []
    errors: list[str] = []
    sizes: list[int] = []
    lock = threading.Lock()
    counter = iter(range(n))
    stop_at = time.perf_counter() + max_seconds

    def worker():
        with requests.Session() as http:
            for _ in range(warmup):
                call(http)
            while time.perf_counter() < stop_at:
                with lock:
                    if next(counter, None) is None:
                        return
                t0 = time.perf_counter()
                r = call(http)
                elapsed = (time.perf_counter() - t0) * 1000
                with lock:
                    latencies.append(elapsed)
                    sizes.append(len(r.content))
                    if r.status_code not in (200, 201):
                        errors.append(f"{r.status_code}: {r.text[:200]}")

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else latencies * 100
    return {
        "n": len(latencies),
        "errors": errors,
        "p50": statistics.median(latencies),
        "p95": q[94],
        "rps": len(latencies) / wall if wall else 0.0,
        "kb": statistics.mean(sizes) / 1024 if sizes else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generate", action="store_true")
    parser.add_argument("--objectives", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=60, help="per map/page/baseline target")
    parser.add_argument("--fast-requests", type=int, default=400, help="per floor and check-in target")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--max-seconds", type=float, default=90)
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    from bench.run import setup_django

    setup_django()
    from bench.state import load_or_generate, migrate

    if args.generate:
        migrate()
        state = generate_and_align(args.objectives)
    else:
        state = load_or_generate(STATE_FILE, lambda: generate_and_align(args.objectives), "the map's org")
    cookie = session_cookie(state["owner_email"])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    slug = state["slug"]
    bearer = {"Authorization": f"Bearer {state['token']}"}
    krs = itertools.cycle(state["checkin_krs"])
    kr_lock = threading.Lock()
    rnd = random.Random(3)

    def get(url, **kw):
        return lambda http: http.get(url, timeout=120, allow_redirects=False, **kw)

    def checkin(http):
        with kr_lock:
            kr, value = next(krs), rnd.randint(120, 200)
        url = f"{base}/api/v1/o/{slug}/key-results/{kr}/check-ins"
        return http.post(url, json={"value": value, "confidence": 7, "comment": "bench"}, headers=bearer, timeout=30)

    quarter, year = state["cycle"], state["year"]
    cookies = {"sessionid": cookie}
    slow, fast = args.requests, args.fast_requests
    targets = [
        ("floor: GET /me (token, trivial view)", get(f"{base}/api/v1/o/{slug}/me", headers=bearer), fast),
        ("check-in submit: POST …/check-ins (token)", checkin, fast),
    ]
    for name, cycle in (("quarter", quarter), ("year", year)):
        targets += [
            (
                f"rows floor ({name}): raw SQL rows + orjson",
                get(f"{base}/bench/o/{slug}/map-rows?cycle={cycle}", headers=bearer),
                slow,
            ),  # noqa: E501
            (
                f"raw SQL + assembly + orjson ({name})",
                get(f"{base}/bench/o/{slug}/map-raw?cycle={cycle}", headers=bearer),
                slow,
            ),  # noqa: E501
            (f"map API ({name})", get(f"{base}/api/v1/o/{slug}/map?cycle={cycle}", headers=bearer), slow),
            (f"map page ({name})", get(f"{base}/o/{slug}/map/?cycle={cycle}", cookies=cookies), slow),
            (
                f"map page's warnings panel ({name}, loaded after the first paint)",
                get(f"{base}/o/{slug}/map/?cycle={cycle}&panel=warnings", cookies=cookies),
                slow,
            ),
        ]
    targets.append(
        (
            "map API with reasons, detail=signals (quarter)",
            get(f"{base}/api/v1/o/{slug}/map?cycle={quarter}&detail=signals", headers=bearer),
            slow // 2,
        )
    )
    proc = start_gunicorn(port)
    results = {}
    load_before = os.getloadavg()
    try:
        for cycle in (quarter, year):  # a fair baseline: the raw-SQL view returns exactly the API's body
            api = requests.get(f"{base}/api/v1/o/{slug}/map?cycle={cycle}", headers=bearer, timeout=120).json()
            raw = requests.get(f"{base}/bench/o/{slug}/map-raw?cycle={cycle}", headers=bearer, timeout=120).json()
            if api != raw:
                raise SystemExit(f"map-raw and the map API differ for cycle {cycle}: not a fair baseline")
        print("map-raw returns the same JSON as the map API (quarter and year)", flush=True)
        for label, call, n in targets:
            r = measure(call, n=n, concurrency=args.concurrency, max_seconds=args.max_seconds)
            results[label] = r
            print(
                f"{label:48s} n={r['n']:4d} err={len(r['errors']):3d} p50={r['p50']:7.1f} ms "
                f"p95={r['p95']:7.1f} ms {r['rps']:6.1f} req/s {r['kb']:8.0f} KB",
                flush=True,
            )
            for e in r["errors"][:3]:
                print("   error:", e)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    args.load = (load_before, os.getloadavg())
    report(state, results, args)


def report(state: dict, results: dict, args) -> None:
    floor = results["floor: GET /me (token, trivial view)"]
    lines = [
        f"Data: one org, {state['objectives']} objectives ({state['aligned']} aligned into a cascade), "
        f"{state['key_results']} KRs, {state['initiatives']} initiatives; gunicorn -w 2 (DEBUG=false), "
        f"{args.concurrency} client threads on the same 2-core box. Quarter map = the current quarter plus its year "
        f"({state['cycle_objectives']} + the year's objectives); year map = all {state['objectives']} objectives.",
        "",
        "| target | n | p50 ms | p95 ms | req/s | KB | p95 ÷ raw SQL (same data) |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, r in results.items():
        name = label.split("(")[-1].rstrip(")") if "(" in label else ""
        raw = results.get(f"raw SQL + assembly + orjson ({name})")
        ratio = f"{r['p95'] / raw['p95']:.2f}×" if raw and label.startswith("map API (") else ""  # the same JSON
        lines.append(
            f"| {label} | {r['n']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['rps']:.0f} | {r['kb']:.0f} | {ratio} |"
        )
    checkin = results["check-in submit: POST …/check-ins (token)"]
    (b1, b5, b15), (e1, e5, e15) = args.load
    lines += [
        "",
        f"Load average (1/5/15 min) at the start: {b1:.1f} / {b5:.1f} / {b15:.1f}; at the end: "
        f"{e1:.1f} / {e5:.1f} / {e15:.1f} (shared 2-core box).",
        f"Budget: map p95 ≤ 250 ms and ≤ 1.5× the raw-SQL baseline; check-in submit p95 ≤ 100 ms "
        f"(measured {checkin['p95']:.1f} ms, floor p95 {floor['p95']:.1f} ms).",
    ]
    table = "\n".join(lines)
    print()
    print(table)
    if args.write_readme:
        begin, end = "<!-- map-bench:begin -->", "<!-- map-bench:end -->"
        text = README.read_text() if README.exists() else "# Benchmarks\n"
        block = f"{begin}\n{table}\n{end}"
        if begin in text:
            text = text[: text.index(begin)] + block + text[text.index(end) + len(end) :]
        else:
            text = text.rstrip() + "\n\n## Map (bench/map.py)\n\n" + block + "\n"
        README.write_text(text)


if __name__ == "__main__":
    main()
