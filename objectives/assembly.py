"""Bulk assembly of objectives and key results into plain dicts with progress and signals (DESIGN.md §10).

Each function runs a fixed number of flat `.values()` (or one raw SQL) queries whatever the number of rows, then
joins the rows in Python. Selectors and the API's hot list endpoints build on these; templates read the dicts.
"""

from __future__ import annotations

import json
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import connection
from django.db.models import Count, F, OuterRef, Subquery, Value
from django.utils import timezone
from psycopg import adapters as psycopg_adapters
from psycopg.postgres import types as psycopg_types
from psycopg.pq import Format

from accounts.models import Organization
from initiatives.models import Initiative
from objectives import health
from objectives.models import KeyResult, Objective
from objectives.progress import expected_progress, format_value, kr_progress, objective_progress

OBJECTIVE_VALUES = (
    "id",
    "public_id",
    "title",
    "description",
    "level",
    "status",
    "visibility",
    "position",
    "created_at",
    "updated_at",
    "cycle_id",
    "cycle__public_id",
    "cycle__name",
    "cycle__start_date",
    "cycle__end_date",
    "team_id",
    "team__public_id",
    "team__name",
    "owner_id",
    "owner__public_id",
    "owner__user__name",
    "owner__user__email",
    "parent_objective_id",
    "parent_objective__public_id",
    "parent_key_result_id",
    "parent_key_result__public_id",
)
KEY_RESULT_VALUES = (
    "id",
    "public_id",
    "objective_id",
    "objective__public_id",
    "objective__title",
    "objective__cycle_id",
    "objective__cycle__start_date",
    "objective__cycle__end_date",
    "title",
    "description",
    "kind",
    "unit",
    "unit_label",
    "decimals",
    "baseline",
    "target",
    "current",
    "band_low",
    "band_high",
    "milestone_steps",
    "weight",
    "confidence",
    "data_source",
    "status",
    "score",
    "last_checkin_at",
    "position",
    "created_at",
    "updated_at",
    "owner_id",
    "owner__public_id",
    "owner__user__name",
    "owner__user__email",
    "owner__timezone",
    "owner__checkin_weekday",
    "owner__checkin_hour",
    "owner__is_active",
    "owner__role",
)
# A KR's own columns: assemble_objectives already has its objective's row, so it skips the join.
KEY_RESULT_OWN_VALUES = tuple(v for v in KEY_RESULT_VALUES if not v.startswith("objective__"))
LEVEL_LABELS = dict(Objective.Level.choices)
STATUS_LABELS = dict(Objective.Status.choices)
KR_KIND_LABELS = dict(KeyResult.Kind.choices)
KR_STATUS_LABELS = dict(KeyResult.Status.choices)


@dataclass
class Context:
    """What every row needs to judge its health: the clock, the org's thresholds and check-in defaults."""

    org: Organization
    now: datetime
    today: date
    thresholds: health.Thresholds
    _expected: dict = field(default_factory=dict, repr=False, compare=False)
    _cutoffs: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def for_org(cls, org: Organization, now: datetime | None = None) -> Context:
        now = now or timezone.now()
        try:
            zone = zoneinfo.ZoneInfo(org.timezone or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo("UTC")
        return cls(
            org=org, now=now, today=now.astimezone(zone).date(), thresholds=health.thresholds_for(org.signal_settings)
        )

    def expected(self, start: date | None, end: date | None) -> float:
        if start is None or end is None:
            return 0.0
        key = (start, end)
        found = self._expected.get(key)
        if found is None:
            found = self._expected[key] = expected_progress(start=start, end=end, today=self.today)
        return found

    def stale_cutoff(self, tz: str | None, weekday: int | None, hour: int | None) -> datetime:
        """health.stale_cutoff for an owner's check-in slot (the org's defaults fill the gaps), once per slot."""
        org = self.org
        key = (
            tz or org.timezone,
            org.checkin_weekday if weekday is None else weekday,
            org.checkin_hour if hour is None else hour,
        )
        found = self._cutoffs.get(key)
        if found is None:
            found = self._cutoffs[key] = health.stale_cutoff(
                now=self.now, weekday=key[1], hour=key[2], tz=key[0], t=self.thresholds
            )
        return found


def person(public_id, name: str | None, email: str | None) -> dict | None:
    """{id, name, initials} for an owner read through `owner__…` values; None when unowned."""
    if public_id is None:
        return None
    display = name or (email or "").split("@")[0] or "?"
    parts = display.replace(".", " ").replace("_", " ").split()
    return {"id": public_id, "name": display, "initials": "".join(p[0] for p in parts[:2]).upper() or "?"}


# --- Queries (each one round trip) --------------------------------------------------------------------------------
def objective_values(org: Organization, qs, visible_qs=None):
    """`qs.values(*OBJECTIVE_VALUES)`, reading the parents' public ids with scalar subqueries instead of two more
    LEFT JOINs: with seven joined tables PostgreSQL spent ~15 ms planning each page; with five, ~1.5 ms.

    With `visible_qs`, each row also carries its focus counts (`focus_owner_n`, `focus_team_n`: the caller's visible,
    non-archived objectives of the same cycle and owner / team), which assemble_objectives then uses instead of
    running focus_counts: one query fewer, and no long IN lists to send.
    """
    # With `visible_qs`, a parent the caller can't see (a private objective, or a KR of one) reads as null.
    parents = Objective.objects.for_org(org) if visible_qs is None else visible_qs.order_by()
    subqueries = {
        "parent_objective__public_id": parents.filter(pk=OuterRef("parent_objective_id")).values("public_id"),
        "parent_key_result__public_id": KeyResult.objects.for_org(org)
        .filter(pk=OuterRef("parent_key_result_id"), objective__in=parents.values("id"))
        .values("public_id"),
    }
    if visible_qs is not None:
        live = visible_qs.exclude(status=Objective.Status.ARCHIVED).order_by()
        for name, column in (("focus_owner_n", "owner_id"), ("focus_team_n", "team_id")):
            subqueries[name] = (
                live.filter(cycle_id=OuterRef("cycle_id"), **{column: OuterRef(column)})
                .values(column)
                .annotate(n=Count("id"))
                .values("n")
            )
    annotations = {k: Subquery(v.order_by()[:1]) for k, v in subqueries.items()}
    extra = ("focus_owner_n", "focus_team_n") if visible_qs is not None else ()
    return qs.annotate(**annotations).values(*OBJECTIVE_VALUES, *extra)


def _focus_from_rows(rows: list[dict]) -> tuple[dict, dict]:
    by_owner = {(r["cycle_id"], r["owner_id"]): r["focus_owner_n"] or 0 for r in rows if r["owner_id"]}
    by_team = {(r["cycle_id"], r["team_id"]): r["focus_team_n"] or 0 for r in rows if r["team_id"]}
    return by_owner, by_team


_COUNTS_LATERAL = """
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE ii.status <> %(cancelled)s) AS total,
           count(*) FILTER (WHERE ii.status = %(done)s) AS done,
           count(*) FILTER (WHERE ii.status = %(blocked)s) AS blocked,
           count(*) FILTER (WHERE ii.status NOT IN (%(done)s, %(cancelled)s) AND ii.due_date < %(today)s) AS overdue
    FROM initiatives_initiative ii
    WHERE ii.organization_id = %(org)s AND ii.key_result_id = kr.id
) i
CROSS JOIN LATERAL (
    SELECT array_agg(c.value ORDER BY c.created_at DESC) AS vals,
           array_agg(c.confidence ORDER BY c.created_at DESC) AS confs,
           array_agg(c.comment ORDER BY c.created_at DESC) AS comments,
           array_agg(c.created_at ORDER BY c.created_at DESC) AS created,
           array_agg(au.name ORDER BY c.created_at DESC) AS names,
           array_agg(au.email ORDER BY c.created_at DESC) AS emails
    FROM (
        SELECT ci.value, ci.confidence, ci.comment, ci.created_at, ci.author_id
        FROM checkins_checkin ci
        WHERE ci.organization_id = %(org)s AND ci.key_result_id = kr.id
        ORDER BY ci.created_at DESC
        LIMIT 3
    ) c
    LEFT JOIN accounts_membership am ON am.id = c.author_id
    LEFT JOIN accounts_user au ON au.id = am.user_id
) r
"""
_EXTRAS = "i.total, i.done, i.blocked, i.overdue, r.vals, r.confs, r.comments, r.created, r.names, r.emails"
_EXTRAS_SQL = f"SELECT kr.id, {_EXTRAS} FROM unnest(%(ids)s::bigint[]) AS kr(id) {_COUNTS_LATERAL}"  # noqa: S608


def _kr_column(key: str) -> str:
    if key.startswith("owner__user__"):
        return f"u.{key.removeprefix('owner__user__')}"
    if key.startswith("owner__"):
        return f"m.{key.removeprefix('owner__')}"
    return f"kr.{key}"


# A page's KRs with their initiative counts and last 3 check-ins, in one round trip (assemble_objectives).
_KEY_RESULTS_SQL = f"""
SELECT {", ".join(_kr_column(k) for k in KEY_RESULT_OWN_VALUES)}, {_EXTRAS}
FROM objectives_keyresult kr
LEFT JOIN accounts_membership m ON m.id = kr.owner_id
LEFT JOIN accounts_user u ON u.id = m.user_id
{_COUNTS_LATERAL}
WHERE kr.organization_id = %(org)s AND kr.objective_id = ANY(%(objective_ids)s)
ORDER BY kr.position, kr.created_at
"""  # noqa: S608 - built from constants; every value is a query parameter


def _fast_timestamps(cursor) -> None:
    """Read timestamptz with psycopg's C loader on this raw cursor. Django registers a Python subclass (to set the
    connection's time zone) that costs ~10x more per value; with the connection in UTC both give the same
    UTC-aware datetimes."""
    if connection.timezone_name != "UTC":
        return
    oid = psycopg_types["timestamptz"].oid
    cursor.cursor.adapters.register_loader(oid, psycopg_adapters.get_loader(oid, Format.TEXT))


def _extras(counts: dict, recent: dict, kr_id: int, extras: tuple) -> None:
    total, done, blocked, overdue, vals, confs, comments, created, names, emails = extras
    counts[kr_id] = (total, done, blocked, overdue)
    if vals is None:
        return
    recent[kr_id] = [
        {
            "value": value,
            "confidence": confidence,
            "comment": comment,
            "created_at": created_at,
            "author": {"name": name or (email or "").split("@")[0]} if email else None,
        }
        for value, confidence, comment, created_at, name, email in zip(
            vals, confs, comments, created, names, emails, strict=True
        )
    ]


def _params(org: Organization, today: date | None, **kwargs) -> dict:
    return {
        "org": org.id,
        "cancelled": Initiative.Status.CANCELLED,
        "done": Initiative.Status.DONE,
        "blocked": Initiative.Status.BLOCKED,
        "today": today or Context.for_org(org).today,  # overdue: due before the org's today
        **kwargs,
    }


def key_results_with_extras(
    org: Organization, objective_ids: list[int], today: date | None = None
) -> tuple[list[dict], dict, dict]:
    """The KRs of `objective_ids` as KEY_RESULT_OWN_VALUES dicts (position order), with key_result_extras' counts
    and recent check-ins, in ONE query."""
    rows: list[dict] = []
    counts: dict[int, tuple[int, int]] = {}
    recent: dict[int, list[dict]] = defaultdict(list)
    if not objective_ids:
        return rows, counts, recent
    n = len(KEY_RESULT_OWN_VALUES)
    with connection.cursor() as cursor:
        _fast_timestamps(cursor)
        cursor.execute(_KEY_RESULTS_SQL, _params(org, today, objective_ids=list(objective_ids)))
        for record in cursor.fetchall():
            row = dict(zip(KEY_RESULT_OWN_VALUES, record[:n], strict=True))
            if isinstance(row["milestone_steps"], str):  # Django leaves jsonb as text for JSONField to parse
                row["milestone_steps"] = json.loads(row["milestone_steps"])
            rows.append(row)
            _extras(counts, recent, row["id"], record[n:])
    return rows, counts, recent


def key_result_extras(org: Organization, key_result_ids: list[int], today: date | None = None) -> tuple[dict, dict]:
    """Initiative counts and the last 3 check-ins of a page of KRs in ONE round trip (two LATERALs per KR over the
    (org, kr) indexes): ({kr id: (not cancelled, done, blocked, overdue)}, {kr id: [last 3 check-ins, newest
    first]})."""
    counts: dict[int, tuple[int, int]] = {}
    recent: dict[int, list[dict]] = defaultdict(list)
    if not key_result_ids:
        return counts, recent
    with connection.cursor() as cursor:
        _fast_timestamps(cursor)
        cursor.execute(_EXTRAS_SQL, _params(org, today, ids=list(key_result_ids)))
        for kr_id, *extras in cursor.fetchall():
            _extras(counts, recent, kr_id, extras)
    return counts, recent


def focus_counts(org: Organization, visible_qs, rows: list[dict]) -> tuple[dict, dict]:
    """(cycle, owner) → objectives and (cycle, team) → objectives, among the objectives the caller can see, for the
    owners and teams of `rows` only. One query: two small GROUP BYs glued with UNION ALL."""
    owners = {r["owner_id"] for r in rows if r["owner_id"]}
    teams = {r["team_id"] for r in rows if r["team_id"]}
    base = visible_qs.filter(cycle_id__in={r["cycle_id"] for r in rows}).exclude(status=Objective.Status.ARCHIVED)

    def grouped(column: str, ids: set, tag: int):
        return (
            base.filter(**{f"{column}__in": ids})
            .annotate(tag=Value(tag), key=F(column))
            .values("tag", "cycle_id", "key")
            .annotate(n=Count("id"))
            .order_by()
        )

    by_owner: dict = defaultdict(int)
    by_team: dict = defaultdict(int)
    for tag, cycle_id, key, n in (
        grouped("owner_id", owners, 0)
        .union(grouped("team_id", teams, 1), all=True)
        .values_list("tag", "cycle_id", "key", "n")
    ):
        (by_team if tag else by_owner)[(cycle_id, key)] += n
    return by_owner, by_team


# --- Assembly (no queries) ----------------------------------------------------------------------------------------
def build_key_result(row: dict, ctx: Context, counts: tuple[int, ...], recent: list[dict]) -> dict:
    """One KR row (KEY_RESULT_VALUES) → dict with formatted values, progress and signals. `counts`: its initiatives
    (not cancelled, done[, blocked, overdue])."""
    prog = kr_progress(
        kind=row["kind"],
        baseline=row["baseline"],
        target=row["target"],
        current=row["current"],
        band_low=row["band_low"],
        band_high=row["band_high"],
        milestone_steps=row["milestone_steps"],
    )
    expected = ctx.expected(row["objective__cycle__start_date"], row["objective__cycle__end_date"])
    total, done = counts[:2]
    blocked, overdue = counts[2:4] if len(counts) >= 4 else (0, 0)
    org = ctx.org
    weekday = row["owner__checkin_weekday"]
    hour = row["owner__checkin_hour"]
    tz = row["owner__timezone"]
    signals = health.kr_signals(
        title=row["title"],
        kind=row["kind"],
        unit=row["unit"],
        baseline=row["baseline"],
        target=row["target"],
        status=row["status"],
        has_owner=row["owner_id"] is not None,
        progress=prog.value,
        expected=expected,
        confidence=row["confidence"],
        initiatives_total=total,
        initiatives_done=done,
        recent_values=[c["value"] for c in recent],
        last_checkin_at=row["last_checkin_at"],
        created_at=row["created_at"],
        now=ctx.now,
        checkin_weekday=weekday if weekday is not None else org.checkin_weekday,
        checkin_hour=hour if hour is not None else org.checkin_hour,
        tz=tz or org.timezone,
        t=ctx.thresholds,
        stale_cutoff=ctx.stale_cutoff(tz, weekday, hour),
    )
    fmt = {"unit": row["unit"], "unit_label": row["unit_label"], "decimals": row["decimals"]}
    steps = row["milestone_steps"] or []
    return {
        "pk": row["id"],
        "id": row["public_id"],
        "objective_pk": row["objective_id"],
        "objective_id": row["objective__public_id"],
        "objective_title": row["objective__title"],
        "title": row["title"],
        "description": row["description"],
        "kind": row["kind"],
        "kind_label": KR_KIND_LABELS.get(row["kind"], row["kind"]),
        "unit": row["unit"],
        "unit_label": row["unit_label"],
        "decimals": row["decimals"],
        "baseline": row["baseline"],
        "target": row["target"],
        "current": row["current"],
        "band_low": row["band_low"],
        "band_high": row["band_high"],
        "milestone_steps": steps,
        "steps_done": min(int(row["current"] or 0), len(steps)) if steps else None,
        "weight": row["weight"],
        "confidence": row["confidence"],
        "data_source": row["data_source"],
        "status": row["status"],
        "status_label": KR_STATUS_LABELS.get(row["status"], row["status"]),
        "score": row["score"],
        "position": row["position"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "last_checkin_at": row["last_checkin_at"],
        "last_checkin": recent[0] if recent else None,
        "owner": person(row["owner__public_id"], row["owner__user__name"], row["owner__user__email"]),
        "owner_pk": row["owner_id"],
        "owner_active": row["owner__is_active"],
        "owner_role": row["owner__role"],
        "progress": prog.value,
        "progress_pct": prog.percent,
        "below_baseline": prog.below_baseline,
        "inside_band": prog.inside_band,
        "expected": expected,
        "display": {
            "baseline": format_value(value=row["baseline"], **fmt),
            "target": format_value(value=row["target"], **fmt),
            "current": format_value(value=row["current"], **fmt),
            "band_low": format_value(value=row["band_low"], **fmt) if row["band_low"] is not None else None,
            "band_high": format_value(value=row["band_high"], **fmt) if row["band_high"] is not None else None,
        },
        "initiatives_total": total,
        "initiatives_done": done,
        "initiatives_blocked": blocked,
        "initiatives_overdue": overdue,
        "signals": signals,
        "status_signal": health.primary_status(signals),
    }


def build_objective(row: dict, ctx: Context, key_results: list[dict], by_owner: dict, by_team: dict) -> dict:
    """One objective row (OBJECTIVE_VALUES) + its assembled KRs → dict with progress and signals."""
    progress = objective_progress(items=[(kr["progress"], kr["weight"]) for kr in key_results])
    expected = ctx.expected(row["cycle__start_date"], row["cycle__end_date"])
    signals = health.objective_signals(
        status=row["status"],
        has_owner=row["owner_id"] is not None,
        progress=progress,
        expected=expected,
        key_results_count=len(key_results),
        owner_objectives_in_cycle=by_owner.get((row["cycle_id"], row["owner_id"]), 0),
        team_objectives_in_cycle=by_team.get((row["cycle_id"], row["team_id"]), 0),
        team_name=row["team__name"] or "",
        t=ctx.thresholds,
    )
    kr_codes = {s.code for kr in key_results for s in kr["signals"]}
    # Its KRs' initiatives' signals, which the board filters and shows as chips (health.initiative_signals).
    initiative_codes = {
        code
        for kr in key_results
        for code, n in (("blocked", kr.get("initiatives_blocked")), ("overdue", kr.get("initiatives_overdue")))
        if n
    }
    status_signal = health.primary_status(signals)
    live = [kr for kr in key_results if kr["status"] == "active"]
    stale = [kr["status_signal"] for kr in live if kr["status_signal"] and kr["status_signal"].code == "stale"]
    if live and len(stale) == len(live):
        # Stale overrides the last reported status on the map (DESIGN.md §3): nobody has reported for a while.
        status_signal = stale[0]
    return {
        "pk": row["id"],
        "id": row["public_id"],
        "title": row["title"],
        "description": row["description"],
        "level": row["level"],
        "level_label": LEVEL_LABELS.get(row["level"], row["level"]),
        "status": row["status"],
        "status_label": STATUS_LABELS.get(row["status"], row["status"]),
        "visibility": row["visibility"],
        "position": row["position"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "cycle": {"id": row["cycle__public_id"], "name": row["cycle__name"]},
        "cycle_pk": row["cycle_id"],
        "team": {"id": row["team__public_id"], "name": row["team__name"]} if row["team_id"] else None,
        "team_pk": row["team_id"],
        "owner": person(row["owner__public_id"], row["owner__user__name"], row["owner__user__email"]),
        "owner_pk": row["owner_id"],
        "parent_objective_id": row["parent_objective__public_id"],
        "parent_key_result_id": row["parent_key_result__public_id"],
        "progress": progress,
        "progress_pct": round(progress * 100),
        "expected": expected,
        "signals": signals,
        "status_signal": status_signal,
        "kr_count": len(key_results),
        "kr_signal_codes": sorted(kr_codes),
        "initiative_signal_codes": sorted(initiative_codes),
        "signal_codes": sorted(kr_codes | initiative_codes | {s.code for s in signals}),
        "key_results": key_results,
    }


def assemble_objectives(
    org: Organization, rows: list[dict], visible_qs, ctx: Context | None = None, focus: tuple | None = None
) -> list[dict]:
    """Objective rows → dicts with their KRs, progress and signals. Two queries, whatever len(rows) (one when the
    rows carry their focus counts, see objective_values, or the caller passes them)."""
    ctx = ctx or Context.for_org(org)
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    by_id = {r["id"]: r for r in rows}
    kr_rows, counts, recent = key_results_with_extras(org, ids, ctx.today)
    for kr in kr_rows:
        o = by_id[kr["objective_id"]]
        kr["objective__public_id"] = o["public_id"]
        kr["objective__title"] = o["title"]
        kr["objective__cycle_id"] = o["cycle_id"]
        kr["objective__cycle__start_date"] = o["cycle__start_date"]
        kr["objective__cycle__end_date"] = o["cycle__end_date"]
    if focus is None:
        focus = _focus_from_rows(rows) if "focus_owner_n" in rows[0] else focus_counts(org, visible_qs, rows)
    by_owner, by_team = focus
    krs_by_objective: dict[int, list[dict]] = defaultdict(list)
    for kr in kr_rows:
        krs_by_objective[kr["objective_id"]].append(
            build_key_result(kr, ctx, counts.get(kr["id"], (0, 0)), recent.get(kr["id"], []))
        )
    return [build_objective(r, ctx, krs_by_objective.get(r["id"], []), by_owner, by_team) for r in rows]


def assemble_key_results(org: Organization, rows: list[dict], ctx: Context | None = None) -> list[dict]:
    """KR rows (KEY_RESULT_VALUES) → dicts with progress and signals. One query, whatever len(rows)."""
    ctx = ctx or Context.for_org(org)
    if not rows:
        return []
    counts, recent = key_result_extras(org, [r["id"] for r in rows], ctx.today)
    return [build_key_result(r, ctx, counts.get(r["id"], (0, 0)), recent.get(r["id"], [])) for r in rows]
