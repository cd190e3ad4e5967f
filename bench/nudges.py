"""Bench: weekly nudges for N members (default 100,000) through a real Celery worker to a local SMTP sink.

    DEBUG=true DATABASE_URL=postgres://…/okrapp_bench REDIS_URL=redis://127.0.0.1:6379/N \
        .venv/bin/python bench/nudges.py [--members 100000] [--concurrency 2] [--write-readme]

Measures (DESIGN.md §10): enqueue time (dispatcher: claim + journal + publish 500-id batches), delivery time
until the sink has every message (the send tasks write the receipts, then send), and that a second dispatcher run
sends 0. `--enqueue-rounds N` first times the dispatcher alone N times (no worker; the published batches are
purged), to see its spread on a shared box. Uses its own org, deleted afterwards.
It migrates the database first; the Redis db given is flushed (use a db of your own; `make bench BENCH=nudges`
runs it on the bench profile's own PostgreSQL and Redis).
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
from bench.smtp_sink import SinkProcess  # noqa: E402
from checkins.models import CheckinNudge  # noqa: E402
from checkins.nudge_dispatch import nudges_dispatch  # noqa: E402
from objectives.models import Cycle, KeyResult, Objective  # noqa: E402
from tests.checkins.worker_harness import CeleryWorker, free_port, purge_broker  # noqa: E402

logging.getLogger("mail.log").setLevel(logging.WARNING)


class CountingHandler:
    """aiosmtpd handler (--sink aiosmtpd): counts deliveries per recipient, keeps no bodies."""

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


class AiosmtpdSink:
    """The sink the tests use, in a thread of this process (costs ~1.6 ms CPU per message: see bench/README.md)."""

    def __init__(self):
        self.handler = CountingHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def start(self):
        self.controller.start()
        return self

    @property
    def total(self) -> int:
        return self.handler.total

    def stats(self) -> tuple[int, int, int]:
        with self.handler.lock:
            counts = list(self.handler.per_rcpt.values())
        return self.handler.total, len(counts), sum(c - 1 for c in counts if c > 1)

    def stop(self):
        self.controller.stop()


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
        _delete_claims(c, org_id)
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
    parser.add_argument("--pool", default="prefork", choices=["prefork", "threads"])
    parser.add_argument("--sink", default="fast", choices=["fast", "aiosmtpd"])
    parser.add_argument("--timeout", type=int, default=900)
    parser.add_argument("--label", default="", help="a note for the README row (e.g. what changed)")
    parser.add_argument("--write-readme", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the seeded org for a later --reuse run")
    parser.add_argument("--reuse", action="store_true", help="reuse a --keep org instead of seeding (saves ~1 min)")
    parser.add_argument("--enqueue-rounds", type=int, default=0, help="time the dispatcher alone N times first")
    args = parser.parse_args()
    from bench.state import migrate

    migrate()
    slug = "bench-nudges"
    purge_broker()
    org = Organization.objects.filter(slug=slug).first() if args.reuse else None
    if org is not None and Membership.objects.filter(organization=org).count() == args.members:
        reset(org)  # a kept org from a previous --keep run: same members, made due again, receipts gone
    else:
        cleanup(slug)
        org = seed(args.members, slug)
    if args.enqueue_rounds:
        enqueue_rounds(org, args.enqueue_rounds)
    sink = (SinkProcess() if args.sink == "fast" else AiosmtpdSink()).start()
    s = connection.settings_dict
    worker = CeleryWorker(
        database_url=f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}",
        redis_url=settings.CELERY_BROKER_URL,
        email_url=f"smtp://127.0.0.1:{sink.port}",
        concurrency=args.concurrency,
        pool=args.pool,
        extra_env={"LOG_LEVEL": "WARNING"},
    ).start()
    time.sleep(6)  # let the worker boot so delivery time measures sending, not Django start-up
    try:
        load_before = os.getloadavg()
        print(f"load average before: {load_before}")
        t0 = time.perf_counter()
        result = nudges_dispatch()
        enqueue = time.perf_counter() - t0
        print(f"enqueue: claimed {result.claimed}, {len(result.batches)} batches in {enqueue:.2f}s")
        deadline = time.monotonic() + args.timeout
        last = 0
        while sink.total < args.members and time.monotonic() < deadline:
            time.sleep(1)
            if sink.total - last >= 10_000:
                last = sink.total
                print(f"  {sink.total} delivered after {time.perf_counter() - t0:.0f}s")
        delivery = time.perf_counter() - t0
        print(f"delivered {sink.total}/{args.members} in {delivery:.1f}s")
        load_after = os.getloadavg()
        time.sleep(3)
        before_rerun = sink.total
        t1 = time.perf_counter()
        rerun = nudges_dispatch()
        rerun_time = time.perf_counter() - t1
        time.sleep(5)
        total, distinct, duplicates = sink.stats()
        unsent = CheckinNudge.objects.filter(organization=org, sent_at=None).count()
        print(
            f"re-run: claimed {rerun.claimed}, sent {total - before_rerun}, in {rerun_time:.2f}s; total mails {total} "
            f"to {distinct} members; duplicates {duplicates}; unsent receipts {unsent}"
        )
        print(f"load average before/after: {load_before} / {load_after}")
        figures = {
            "members": args.members,
            "enqueue_s": enqueue,
            "delivery_s": delivery,
            "delivered": total,
            "duplicates": duplicates,
            "rerun_claimed": rerun.claimed,
            "rerun_sent": total - before_rerun,
            "load_before": load_before,
            "load_after": load_after,
            "pool": f"{args.pool} -c {args.concurrency}",
            "sink": args.sink,
            "label": args.label,
        }
        if args.write_readme:
            write_readme(figures)
    finally:
        worker.stop()
        sink.stop()
        if not args.keep:
            cleanup(slug)
        purge_broker()


def enqueue_rounds(org: Organization, rounds: int) -> None:
    """The dispatcher alone, `rounds` times (each on a freshly reset org; batches published, then purged)."""
    times = []
    for _ in range(rounds):
        reset(org)
        connection.close()
        time.sleep(2)
        load = os.getloadavg()[0]
        t = time.perf_counter()
        result = nudges_dispatch()
        times.append(time.perf_counter() - t)
        purge_broker()
        print(f"  enqueue alone: {times[-1]:.2f}s (claimed {result.claimed}, load1 {load:.2f})")
    print(f"enqueue alone over {rounds} rounds: min {min(times):.2f}s, median {sorted(times)[len(times) // 2]:.2f}s")
    reset(org)


def reset(org: Organization) -> None:
    """Make every member of a kept bench org due again and drop its receipts (as if freshly seeded)."""
    due = timezone.now() - timedelta(minutes=1)
    with connection.cursor() as c:
        c.execute("DELETE FROM checkins_checkinnudge WHERE organization_id = %s", [org.pk])
        _delete_claims(c, org.pk)
        c.execute("UPDATE accounts_membership SET next_nudge_at = %s WHERE organization_id = %s", [due, org.pk])
        c.execute("VACUUM ANALYZE checkins_checkinnudge")
        c.execute("VACUUM ANALYZE checkins_nudgeclaim")
        c.execute("VACUUM ANALYZE accounts_membership")


def _delete_claims(c, org_id: int) -> None:
    """Claim-journal rows of the bench org (a batch spans orgs in general; here the bench org is the one due)."""
    c.execute(
        "DELETE FROM checkins_nudgeclaim n USING accounts_membership m "
        "WHERE m.id = n.membership_ids[1] AND m.organization_id = %s",
        [org_id],
    )


BEGIN, END = "<!-- nudge-bench:begin -->", "<!-- nudge-bench:end -->"


def write_readme(f: dict) -> None:
    """Replace the latest-run block of the "## Nudges" section of bench/README.md (the prose around it is kept)."""
    path = ROOT / "bench" / "README.md"
    text = path.read_text()
    load = ", ".join(f"{x:.1f}" for x in f["load_before"]) + " → " + ", ".join(f"{x:.1f}" for x in f["load_after"])
    block = (
        f"{BEGIN}\n"
        "| members | enqueue (≤ 5 s) | all delivered (≤ 300 s) | delivered | duplicates | re-run claims / sends "
        "| worker | sink | load avg 1/5/15 min (before → after) |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
        f"| {f['members']:,} | {f['enqueue_s']:.2f} s | {f['delivery_s']:.1f} s | {f['delivered']:,} | "
        f"{f['duplicates']} | {f['rerun_claimed']} / {f['rerun_sent']} | {f['pool']} | {f['sink']} | {load} |\n"
        + (f"\n{f['label']}\n" if f["label"] else "")
        + f"{END}"
    )
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        text = before + block + rest.split(END, 1)[1]
    else:
        print("bench/README.md has no nudge-bench markers; latest run:\n" + block)
        return
    path.write_text(text)


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()
