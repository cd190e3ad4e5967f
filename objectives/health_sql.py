"""KR signal codes for thousands of key results at once, judged by PostgreSQL (DESIGN.md §3, §10).

The cycle board counts and filters every objective of a cycle by signal, and the map colours every KR of a
year; both need each KR's codes but not their reasons. This module writes objectives.health.kr_signals' rules as
one SQL expression that yields a bit mask per KR, over the stored `progress` and initiative counts
(objectives.progress_sql, migration objectives 0004), so PostgreSQL judges and aggregates and Python receives one
row per objective (board) or a small int per KR (map). Reasons in words stay in objectives.health, computed for
what is on screen; tests/objectives/test_health_sql.py checks that both give the same codes on random facts.

What depends on the clock comes in as parameters: the expected progress of each cycle today and the stale
cut-off of each owner's check-in slot (computed in Python, DST-correct, once per distinct slot).
"""

from __future__ import annotations

from functools import lru_cache

from django.db import connection

from accounts.models import Organization
from objectives.assembly import Context
from objectives.models import Cycle

# Bit per code, in kr_signals' order (pace, watermelon / mismatch, task in disguise, stale, no work, unowned,
# focus), so decoding a mask yields the codes in the order the full functions return them. The last two are the
# signals of a KR's initiatives (health.initiative_signals), which an objective on the board inherits: KR_CODES_SQL
# never sets them, INITIATIVE_CODES_SQL does.
CODES = (
    "on_track",
    "at_risk",
    "off_track",
    "watermelon",
    "confidence_mismatch",
    "task_in_disguise",
    "stale",
    "no_work",
    "unowned",
    "focus",
    "blocked",
    "overdue",
)
BIT = {code: 1 << i for i, code in enumerate(CODES)}


@lru_cache(maxsize=2048)
def decode(mask: int) -> tuple[str, ...]:
    return tuple(code for code in CODES if mask & BIT[code])


# `kr` is objectives_keyresult, `pace.value` its pace today (NULL early in the cycle), `slot.cutoff` the stale cut-off
# of its owner's check-in slot (NULL when unowned). `%(name)s` placeholders are filled by params().
_PACE = "pace.value"
_ACTIVE = "(kr.status = 'active')"
_FLAT = """(SELECT count(*) = 3 AND count(DISTINCT r.value) = 1 FROM (
        SELECT ci.value FROM checkins_checkin ci
        WHERE ci.organization_id = kr.organization_id AND ci.key_result_id = kr.id
        ORDER BY ci.created_at DESC LIMIT 3) r)"""
_WORK_DONE_NUMBER_FLAT = f"""(kr.initiatives_total >= 1
    AND kr.initiatives_done::float8 / kr.initiatives_total >= %(watermelon_done_share)s
    AND (kr.progress < %(watermelon_progress)s OR {_FLAT}))"""
_CONFIDENT_BUT_BEHIND = f"""(kr.confidence IS NOT NULL AND {_PACE} IS NOT NULL
    AND kr.confidence >= %(watermelon_confidence)s AND {_PACE} < %(watermelon_pace)s)"""
_MISMATCH = f"""({_ACTIVE} AND kr.confidence IS NOT NULL AND {_PACE} IS NOT NULL AND (
    (kr.confidence <= %(low_confidence)s AND {_PACE} >= %(on_track)s)
    OR (kr.confidence >= %(watermelon_confidence)s AND {_PACE} < %(on_track)s)))"""

KR_CODES_SQL = f"""(
    CASE WHEN NOT {_ACTIVE} THEN 0
         WHEN {_PACE} IS NULL OR {_PACE} >= %(on_track)s THEN {BIT["on_track"]}
         WHEN {_PACE} >= %(at_risk)s THEN {BIT["at_risk"]}
         ELSE {BIT["off_track"]} END
    | CASE WHEN kr.status <> 'closed' AND ({_WORK_DONE_NUMBER_FLAT} OR {_CONFIDENT_BUT_BEHIND}) THEN {BIT["watermelon"]}
           WHEN {_MISMATCH} THEN {BIT["confidence_mismatch"]} ELSE 0 END
    | CASE WHEN kr.task_in_disguise THEN {BIT["task_in_disguise"]} ELSE 0 END
    | CASE WHEN {_ACTIVE} AND COALESCE(kr.last_checkin_at, kr.created_at) < slot.cutoff
           THEN {BIT["stale"]} ELSE 0 END
    | CASE WHEN {_ACTIVE} AND kr.initiatives_total = 0 THEN {BIT["no_work"]} ELSE 0 END
    | CASE WHEN kr.owner_id IS NULL AND kr.status <> 'closed' THEN {BIT["unowned"]} ELSE 0 END
    | CASE WHEN kr.initiatives_total > %(focus_initiatives)s THEN {BIT["focus"]} ELSE 0 END
)"""

# "blocked" / "overdue" when one of the KR's initiatives is: blocked is counted on the KR row (migration objectives
# 0005); overdue depends on the org's today (`%(today)s`), so it looks at the due dates over the (org, kr) index.
INITIATIVE_CODES_SQL = f"""(
    CASE WHEN kr.initiatives_blocked > 0 THEN {BIT["blocked"]} ELSE 0 END
    | CASE WHEN EXISTS (
        SELECT 1 FROM initiatives_initiative ii
        WHERE ii.organization_id = kr.organization_id AND ii.key_result_id = kr.id
          AND ii.due_date < %(today)s AND ii.status NOT IN ('done', 'cancelled')
      ) THEN {BIT["overdue"]} ELSE 0 END
)"""  # noqa: S608 - built from constants; every value is a query parameter

# Joins giving `cyc` (per objective's cycle), `pace` (per KR) and `slot` (per KR owner) to a query over `kr` joined
# to `o` (objectives_objective).
JOINS_SQL = """
JOIN unnest(%(cycle_ids)s::bigint[], %(cycle_expected)s::float8[]) AS cyc(id, expected) ON cyc.id = o.cycle_id
CROSS JOIN LATERAL (
    SELECT CASE WHEN cyc.expected < %(early_cycle)s OR cyc.expected <= 0 THEN NULL
                ELSE kr.progress / cyc.expected END AS value
) pace
LEFT JOIN accounts_membership owner_m ON owner_m.id = kr.owner_id
LEFT JOIN unnest(%(slot_keys)s::text[], %(slot_cutoffs)s::timestamptz[]) AS slot(key, cutoff)
    ON slot.key = owner_m.timezone || '|' || COALESCE(owner_m.checkin_weekday, -1) || '|'
                  || COALESCE(owner_m.checkin_hour, -1)
"""

_SLOTS_SQL = """
SELECT DISTINCT timezone, checkin_weekday, checkin_hour FROM accounts_membership WHERE organization_id = %s
"""


def _slot_key(tz: str, weekday: int | None, hour: int | None) -> str:
    return f"{tz}|{-1 if weekday is None else weekday}|{-1 if hour is None else hour}"


def params(org: Organization, ctx: Context, cycles: dict[int, tuple]) -> dict:
    """Parameters for KR_CODES_SQL + JOINS_SQL: thresholds, each cycle's expected progress today
    (`cycles`: id → (start_date, end_date)) and the stale cut-off of every check-in slot in the org (one query)."""
    t = ctx.thresholds
    with connection.cursor() as cursor:
        cursor.execute(_SLOTS_SQL, [org.id])
        slots = cursor.fetchall()
    return {
        "early_cycle": t.early_cycle,
        "on_track": t.on_track,
        "at_risk": t.at_risk,
        "watermelon_done_share": t.watermelon_done_share,
        "watermelon_progress": t.watermelon_progress,
        "watermelon_confidence": t.watermelon_confidence,
        "watermelon_pace": t.watermelon_pace,
        "low_confidence": t.low_confidence,
        "focus_initiatives": t.focus_initiatives,
        "today": ctx.today,
        "cycle_ids": list(cycles),
        "cycle_expected": [ctx.expected(start, end) for start, end in cycles.values()],
        "slot_keys": [_slot_key(tz, wd, hr) for tz, wd, hr in slots],
        "slot_cutoffs": [ctx.stale_cutoff(tz, wd, hr) for tz, wd, hr in slots],
    }


_KEY_RESULT_CODES_SQL = f"""
SELECT kr.id, {KR_CODES_SQL}
FROM objectives_keyresult kr
JOIN objectives_objective o ON o.id = kr.objective_id
{JOINS_SQL}
WHERE kr.organization_id = %(org)s AND kr.id = ANY(%(ids)s::bigint[])
"""  # noqa: S608 - built from constants; every value is a query parameter


def key_result_codes(org: Organization, ctx: Context, key_result_ids: list[int]) -> dict[int, tuple[str, ...]]:
    """KR id → its signal codes (kr_signals' order), for KRs of `org`. Three queries."""
    if not key_result_ids:
        return {}
    cycles = {
        c["id"]: (c["start_date"], c["end_date"])
        for c in Cycle.objects.for_org(org)
        .filter(objectives__key_results__id__in=key_result_ids)
        .values("id", "start_date", "end_date")
        .distinct()
    }
    values = params(org, ctx, cycles)
    values.update(org=org.id, ids=list(key_result_ids))
    with connection.cursor() as cursor:
        cursor.execute(_KEY_RESULT_CODES_SQL, values)
        return {pk: decode(mask) for pk, mask in cursor.fetchall()}
