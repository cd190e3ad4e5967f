"""The alignment map's queries (objectives.map, objectives.map_page): a constant number whatever the size.

The objectives come through SQL built by the ORM, so the tenant and privacy filters are `selectors.visibility_q`'s;
the KRs of the chosen objectives through one raw query with what PostgreSQL stores or judges for each (stored
progress, objectives.health_sql's signal-code mask, initiatives per status). Rows are tuples, fetched in one go by
the cursor (no model instances, no per-row converters); ids are read as text, numbers as floats.
"""

from __future__ import annotations

from operator import itemgetter

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import F, FloatField, Func, Q, TextField, Value
from django.db.models.functions import Cast

from accounts.models import Membership, Organization, Team
from initiatives.models import Initiative
from objectives import health_sql
from objectives.assembly import Context
from objectives.models import Contribution, Cycle, Objective
from objectives.selectors import visibility_q

INITIATIVE_STATUSES = tuple(Initiative.Status.values)


def scope_cycles(*, org: Organization, cycle: Cycle) -> dict[int, dict]:
    """The cycles a map of `cycle` shows: the cycle, the year around a quarter, the quarters inside a year.

    A quarter's teams align to the year's company KRs, so the year is part of the quarter's cascade.
    """
    cond = Q(pk=cycle.pk) | Q(parent_id=cycle.pk)
    if cycle.parent_id:
        cond |= Q(pk=cycle.parent_id)
    rows = Cycle.objects.for_org(org).filter(cond).values("id", "public_id", "name", "kind", "start_date", "end_date")
    return {r["id"]: {**r, "public_id": str(r["public_id"])} for r in rows}


def objective_q(membership: Membership, cycle_ids, prefix: str = "") -> Q:
    """Objectives in the map (reached through `prefix`): in the scope cycles, not archived, visible."""
    return (
        Q(**{f"{prefix}cycle_id__in": list(cycle_ids)})
        & ~Q(**{f"{prefix}status": Objective.Status.ARCHIVED})
        & visibility_q(membership, prefix)
    )


def _tuples(qs) -> list[tuple]:
    """The rows of a `.values_list()` queryset, fetched in one go by the cursor: the SQL (and so the tenant and
    privacy filters) is the ORM's, but the per-row Python of QuerySet iteration (converters, 100-row chunks) is
    skipped; every selected column is already the Python type psycopg loads (floats, ints, str)."""
    try:
        sql, params = qs.query.sql_with_params()
    except EmptyResultSet:
        return []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def fetch(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _epoch(name: str):
    # date_part() returns float8; EXTRACT returns numeric (PostgreSQL 14+), ~3x the cost per row once cast back.
    return Func(Value("epoch"), F(name), function="date_part", output_field=FloatField())


def _text(name: str):
    return Cast(name, TextField())  # ids as text: no uuid.UUID per row on the way in, none to format on the way out


# Column order of the objective rows; bench/map_urls.py's raw SQL returns the same tuples.
OBJECTIVE_COLUMNS = (
    "id",
    "public_id",  # text
    "title",
    "level",
    "status",
    "cycle_id",
    "team_id",
    "owner_id",
    "parent_objective_id",
    "parent_key_result_id",
)
# The page also needs, for an objective aligned to a KR, the KR's objective and place (to group children per KR).
PARENT_KR_COLUMNS = ("parent_kr_objective_id", "parent_kr_position", "parent_kr_created")


def objective_rows(org: Organization, membership: Membership, cycle_ids, *, parent_krs: bool = False) -> list[tuple]:
    """The map's objectives (OBJECTIVE_COLUMNS, + PARENT_KR_COLUMNS with `parent_krs`), in position order."""
    qs = (
        Objective.objects.for_org(org)
        .filter(objective_q(membership, cycle_ids))
        .annotate(public_id_text=_text("public_id"))
        .order_by("position", "created_at")
    )
    columns = ["public_id_text" if c == "public_id" else c for c in OBJECTIVE_COLUMNS]
    if parent_krs:
        qs = qs.annotate(
            parent_kr_objective_id=F("parent_key_result__objective_id"),
            parent_kr_position=F("parent_key_result__position"),
            parent_kr_created=_epoch("parent_key_result__created_at"),
        )
        columns += PARENT_KR_COLUMNS
    return _tuples(qs.values_list(*columns))


# The KRs of the chosen objectives with what PostgreSQL stores or judges for each, so no rule runs in Python: the
# stored progress, the signal codes as a bit mask (objectives.health_sql) and the initiatives per status (stored on
# the KR by the counts trigger, migrations objectives 0004/0005: the initiatives table is not read).
# Not sorted by PostgreSQL: Python sorts the rows by (position, created) for less (a sort of 15,000 wide rows cost
# PostgreSQL more than the rest of the query here).
KR_COLUMNS = (
    "id",
    "public_id",  # text
    "objective_id",
    "title",
    "kind",
    "status",
    "owner_id",
    "confidence",
    "progress",  # float, stored
    "weight",  # float
    "mask",  # health_sql bits
    *INITIATIVE_STATUSES,  # counts
    "position",
    "created_epoch",
)
# What explain() needs on top (`detail=signals`, and the KRs a page renders).
KR_FACT_COLUMNS = (
    "unit",
    "baseline",
    "target",
    "initiatives_total",
    "initiatives_done",
    "last_checkin_epoch",
    "stale_cutoff_epoch",  # the owner's check-in slot's cut-off, as health_sql judged it (NULL: never stale)
    "flat",  # the last 3 check-ins have one value (read only where it can decide a watermelon)
)
COUNTS_AT = KR_COLUMNS.index(INITIATIVE_STATUSES[0])
ORDER_AT = KR_COLUMNS.index("position")
FACTS_AT = len(KR_COLUMNS)
_KR_SELECT = f"""kr.id, kr.public_id::text, kr.objective_id, kr.title, kr.kind, kr.status, kr.owner_id, kr.confidence,
    kr.progress, kr.weight::float8, {health_sql.KR_CODES_SQL},
    kr.initiatives_total - kr.initiatives_done - kr.initiatives_in_progress - kr.initiatives_blocked,
    kr.initiatives_in_progress, kr.initiatives_blocked, kr.initiatives_done, kr.initiatives_cancelled,
    kr.position, date_part('epoch', kr.created_at)"""
_FLAT_SQL = """(SELECT count(*) = 3 AND count(DISTINCT r.value) = 1 FROM (
        SELECT ci.value FROM checkins_checkin ci
        WHERE ci.organization_id = kr.organization_id AND ci.key_result_id = kr.id
        ORDER BY ci.created_at DESC LIMIT 3) r)"""
_KR_FACTS_SELECT = f""", kr.unit, kr.baseline::float8, kr.target::float8, kr.initiatives_total, kr.initiatives_done,
    date_part('epoch', kr.last_checkin_at), date_part('epoch', slot.cutoff),
    CASE WHEN kr.initiatives_total >= 1
              AND kr.initiatives_done::float8 / kr.initiatives_total >= %(watermelon_done_share)s
         THEN {_FLAT_SQL} ELSE false END"""
_KR_SQL = """
SELECT {select}
FROM objectives_keyresult kr
JOIN unnest(%(ids)s::bigint[]) AS chosen(id) ON chosen.id = kr.objective_id
JOIN objectives_objective o ON o.id = kr.objective_id
{joins}
WHERE kr.organization_id = %(org)s
"""
assert INITIATIVE_STATUSES == ("not_started", "in_progress", "blocked", "done", "cancelled")  # _KR_SELECT's order
KR_SQL = _KR_SQL.format(select=_KR_SELECT, joins=health_sql.JOINS_SQL)
KR_FACTS_SQL = _KR_SQL.format(select=_KR_SELECT + _KR_FACTS_SELECT, joins=health_sql.JOINS_SQL)


def judge_params(org: Organization, ctx: Context, cycles: dict[int, dict], objective_ids: list[int]) -> dict:
    """health_sql's parameters (one query: the org's check-in slots) for the KRs of `objective_ids`."""
    params = health_sql.params(org, ctx, {pk: (c["start_date"], c["end_date"]) for pk, c in cycles.items()})
    params.update(org=org.id, ids=bigint_array(objective_ids))
    return params


def bigint_array(ids) -> str:
    """A `bigint[]` parameter as its text form: psycopg's list dumper costs ~1 µs per element in Python."""
    return "{" + ",".join(map(str, ids)) + "}"


def key_result_rows(params: dict, *, facts: bool = False) -> list[tuple]:
    """KR rows (KR_COLUMNS, + KR_FACT_COLUMNS with `facts`) of `params["ids"]`'s objectives, in KR order."""
    rows = fetch(KR_FACTS_SQL if facts else KR_SQL, params)
    rows.sort(key=itemgetter(ORDER_AT, ORDER_AT + 1))
    return rows


def contribution_rows(org: Organization, membership: Membership, cycle_ids, objective_ids=None) -> list[tuple]:
    """(objective pk, key result pk, KR's objective pk, KR public id, KR title, weight) of the contributions made by
    visible map objectives (or, with `objective_ids`, those made by or to these objectives); the caller drops the
    edges whose other end is not on the map."""
    qs = Contribution.objects.for_org(org).filter(objective_q(membership, cycle_ids, "objective__"))
    if objective_ids is not None:
        qs = qs.filter(Q(objective_id__in=objective_ids) | Q(key_result__objective_id__in=objective_ids))
    return _tuples(
        qs.annotate(weight_f=Cast("weight", FloatField()), kr_public_id=_text("key_result__public_id"))
        .order_by("pk")
        .values_list(
            "objective_id", "key_result_id", "key_result__objective_id", "kr_public_id", "key_result__title", "weight_f"
        )
    )


def people_rows(org: Organization, owner_ids) -> list[tuple]:
    """(pk, public id, name, email) of the owners the visible nodes refer to."""
    owner_ids = sorted(i for i in owner_ids if i is not None)
    if not owner_ids:
        return []
    return _tuples(
        Membership.objects.filter(organization=org, id__in=owner_ids)
        .annotate(public_id_text=_text("public_id"))
        .values_list("id", "public_id_text", "user__name", "user__email")
    )


def team_rows(org: Organization, team_ids) -> list[tuple]:
    """(pk, public id, name) of the teams the visible nodes refer to."""
    team_ids = sorted(i for i in team_ids if i is not None)
    if not team_ids:
        return []
    return _tuples(
        Team.objects.for_org(org)
        .filter(id__in=team_ids)
        .annotate(public_id_text=_text("public_id"))
        .values_list("id", "public_id_text", "name")
    )
