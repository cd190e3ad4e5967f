"""Bench: weekly nudges for N members (default 100,000) through a real Celery worker to a local SMTP sink.

    DEBUG=true DATABASE_URL=postgres://…/okrapp_bench REDIS_URL=redis://127.0.0.1:6379/N \
        .venv/bin/python bench/nudges.py [--members 100000] [--concurrency 2] [--write-readme]

Measures (DESIGN.md §10): enqueue time (dispatcher: claim + receipts + publish 500-id batches), delivery time
until the sink has every message, and that a second dispatcher run sends 0. Uses its own org, deleted afterwards.
The database must be migrated (`manage.py migrate`); the Redis db given is flushed (use a db of your own).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "okrapp.settings")

import django  # noqa: E402

django.setup()

from aiosmtpd.controller import Controller  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Membership, Organization, User  # noqa: E402
from checkins.models import CheckinNudge  # noqa: E402
from checkins.nudges import nudges_dispatch  # noqa: E402
from objectives.models import Cycle, KeyResult, Objective  # noqa: E402
from tests.checkins.worker_harness import CeleryWorker, free_port, purge_broker  # noqa: E402

logging.getLogger("mail.log").setLevel(logging.WARNING)


class CountingHandler:
    """Counts deliveries per recipient (keeps no bodies: 100k messages would be ~600 MB)."""

    def __init__(self):
        self.total = 0
        self.per_rcpt: dict[str, int] = {}
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.total += 1
            for r in envelope.rcpt_tos:
                self.per_rcpt[r] = self.per_rcpt.get(r, 0) + 1
        return "250 OK"


def seed(n: int, slug: str) -> Organization:
    t = time.perf_counter()
    org = Organization.objects.create(name="Bench nudges", slug=slug)
    due = timezone.now() - timedelta(minutes=1)
    for start in range(0, n, 10_000):
        users = User.objects.bulk_create(
            [User(email=f"{slug}-{i}@bench.test", password="!") for i in range(start, min(n, start + 10_000))]
        )
        members = Membership.objects.bulk_create(
            [Membership(organization=org, user=u, next_nudge_at=due) for u in users]
        )
        cycle, _ = Cycle.objects.get_or_create(
            organization=org,
            name="Bench Q",
            defaults={"start_date": due.date() - timedelta(days=30), "end_date": due.date() + timedelta(days=60)},
        )
        objective = Objective.objects.create(organization=org, cycle=cycle, title="Bench objective", status="active")
        KeyResult.objects.bulk_create(
            [
                KeyResult(
                    organization=org,
                    objective=objective,
                    owner=m,
                    title=f"Raise metric {i}",
                    target=100,
                    status="active",
                )
                for i, m in zip(range(start, start + len(members)), members, strict=True)
            ]
        )
    print(f"seeded {n} members in {time.perf_counter() - t:.1f}s")
    return org


def cleanup(slug: str) -> None:
    with connection.cursor() as c:
        c.execute("SELECT id FROM accounts_organization WHERE slug = %s", [slug])
        row = c.fetchone()
        if not row:
            c.execute("DELETE FROM accounts_user WHERE email LIKE %s", [f"{slug}-%@bench.test"])  # an aborted seed
            return
        org_id = row[0]
        for table in ("checkins_checkinnudge", "objectives_keyresult", "objectives_objective", "objectives_cycle"):
            c.execute(f"DELETE FROM {table} WHERE organization_id = %s", [org_id])  # noqa: S608
        c.execute("SELECT user_id FROM accounts_membership WHERE organization_id = %s", [org_id])
        user_ids = [r[0] for r in c.fetchall()]
        c.execute("DELETE FROM accounts_membership WHERE organization_id = %s", [org_id])
        c.execute("DELETE FROM accounts_user WHERE id = ANY(%s)", [user_ids])
        c.execute("DELETE FROM accounts_user WHERE email LIKE %s", [f"{slug}-%@bench.test"])
        c.execute("DELETE FROM accounts_organization WHERE id = %s", [org_id])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=900)
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    slug = "bench-nudges"
    cleanup(slug)
    purge_broker()
    org = seed(args.members, slug)
    handler = CountingHandler()
    port = free_port()
    sink = Controller(handler, hostname="127.0.0.1", port=port)
    sink.start()
    s = connection.settings_dict
    worker = CeleryWorker(
        database_url=f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}",
        redis_url=settings.CELERY_BROKER_URL,
        email_url=f"smtp://127.0.0.1:{port}",
        concurrency=args.concurrency,
        extra_env={"LOG_LEVEL": "WARNING"},
    ).start()
    time.sleep(6)  # let the worker boot so delivery time measures sending, not Django start-up
    try:
        t0 = time.perf_counter()
        result = nudges_dispatch()
        enqueue = time.perf_counter() - t0
        print(f"enqueue: claimed {result.claimed}, {len(result.batches)} batches in {enqueue:.2f}s")
        deadline = time.monotonic() + args.timeout
        last = 0
        while handler.total < args.members and time.monotonic() < deadline:
            time.sleep(1)
            if handler.total - last >= 10_000:
                last = handler.total
                print(f"  {handler.total} delivered after {time.perf_counter() - t0:.0f}s")
        delivery = time.perf_counter() - t0
        print(f"delivered {handler.total}/{args.members} in {delivery:.1f}s")
        time.sleep(3)
        t1 = time.perf_counter()
        rerun = nudges_dispatch()
        rerun_time = time.perf_counter() - t1
        time.sleep(5)
        duplicates = sum(c - 1 for c in handler.per_rcpt.values() if c > 1)
        unsent = CheckinNudge.objects.filter(organization=org, sent_at=None).count()
        print(
            f"re-run: claimed {rerun.claimed}, in {rerun_time:.2f}s; total mails {handler.total}; "
            f"duplicates {duplicates}; unsent receipts {unsent}"
        )
        figures = {
            "members": args.members,
            "enqueue_s": enqueue,
            "delivery_s": delivery,
            "delivered": handler.total,
            "duplicates": duplicates,
            "rerun_claimed": rerun.claimed,
            "load": os.getloadavg(),
        }
        if args.write_readme:
            write_readme(figures, args.concurrency)
    finally:
        worker.stop()
        sink.stop()
        cleanup(slug)
        purge_broker()


READING = (
    "Reading: correctness holds at scale (every member exactly one email, 0 duplicates, a re-run claims and sends 0). "
    "Timing targets were missed on the shared 2-core box (26.6 s enqueue, 595 s delivery at ~170 mails/s on the first "
    "run): enqueue is dominated by writing the receipt rows (the outbox) in the claim transactions; per message the "
    "cost is template rendering, Python's email header folding, 3 SMTP round trips and 1 stamp UPDATE. Next steps: "
    "COPY/multi-VALUES receipts, per-batch pre-rendering, and a measurement on an idle machine.\n"
)


def write_readme(f: dict, concurrency: int) -> None:
    """Replace only the "## Nudges" section of bench/README.md (other benches own other sections)."""
    path = ROOT / "bench" / "README.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    section = (
        "## Nudges\n\n"
        "`bench/nudges.py`: members due at once → dispatcher (compare-and-set claim + receipts, 500-id batches "
        f"published on commit) → real Celery worker (prefork, {concurrency} processes) → local aiosmtpd sink.\n\n"
        "| members | enqueue (target ≤ 5 s) | all delivered (target ≤ 300 s) | delivered | duplicates "
        "| re-run claims/sends |\n"
        "|---|---|---|---|---|---|\n"
        f"| {f['members']:,} | {f['enqueue_s']:.2f} s | {f['delivery_s']:.1f} s | {f['delivered']:,} | "
        f"{f['duplicates']} | {f['rerun_claimed']} / 0 |\n\n"
        f"Load average at the end of the run: {', '.join(f'{x:.1f}' for x in f['load'])} (shared 2-core box; "
        "other test suites were running). Re-run: `DEBUG=true DATABASE_URL=… REDIS_URL=… .venv/bin/python "
        "bench/nudges.py --write-readme`.\n\n" + READING
    )
    if "## Nudges" in text:
        before, rest = text.split("## Nudges", 1)
        after = rest.split("\n## ", 1)
        text = before + section + ("\n## " + after[1] if len(after) > 1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()
