"""The cycle board at scale (DESIGN.md §10): judge every objective cheaply, render one page of them fully.

A cycle of a large organization holds over a thousand objectives. The board shows all of them as groups (company,
then each team, then personal) with counts, average progress and signal counts per group, but renders the rows of
a first page only (company objectives first); the other groups open collapsed and load their rows with htmx, a page
at a time. Counting and filtering by signal need every objective's progress and signal codes, so `judge()` reads
lean facts: one row per objective from a roll-up of its KRs' stored progress and their signal codes judged by
PostgreSQL (objectives.health_sql), plus the objective-level codes from objectives.health. The rows on screen are
then assembled in full (reasons, owners, KRs) by objectives.assembly. Six queries whatever the size of the cycle.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from html import escape

from django.db import connection
from django.utils.safestring import mark_safe

from accounts.models import Membership, Organization, Team
from objectives import assembly, health, health_sql
from objectives.models import Cycle, Objective

PAGE = 25  # objectives rendered per group page ("show more" loads the next 25)
FIRST_PAGE = 25  # objectives rendered with the page itself; the groups after that open collapsed
LEVEL_ORDER = [Objective.Level.COMPANY, Objective.Level.TEAM, Objective.Level.PERSONAL]
LEVEL_LABELS = dict(Objective.Level.choices)
GROUP_SIGNALS = ("off_track", "at_risk", "watermelon", "stale")  # counted on each group's header
SIGNAL_LEVELS = {"off_track": health.RED, "at_risk": health.AMBER, "watermelon": health.PURPLE, "stale": health.GREY}

# One row per objective: its KRs' weighted progress (stored per KR) and the union of their signal codes and their
# initiatives' (blocked, overdue), judged by PostgreSQL (objectives.health_sql). Weights are positive (a check
# constraint), as objective_progress expects.
_ROLLUP_SQL = f"""
SELECT kr.objective_id, count(*), sum(kr.progress * kr.weight::float8) / sum(kr.weight::float8),
       bit_or({health_sql.KR_CODES_SQL} | {health_sql.INITIATIVE_CODES_SQL})
FROM objectives_keyresult kr
JOIN unnest(%(ids)s::bigint[]) AS chosen(id) ON chosen.id = kr.objective_id
JOIN objectives_objective o ON o.id = kr.objective_id
{health_sql.JOINS_SQL}
WHERE kr.organization_id = %(org)s
GROUP BY kr.objective_id
"""  # noqa: S608 - built from constants; every value is a query parameter

_LEAN_VALUES = ("id", "level", "status", "owner_id", "team_id", "team__public_id", "team__name", "cycle_id")


@dataclass(frozen=True)
class BoardFilters:
    """What a board is narrowed to (each optional): the cycle page's filters and search, also used by its groups,
    its CSV export and the objectives API's signal filter."""

    team: Team | None = None
    owner: Membership | None = None
    status: str | None = None
    signal: str | None = None
    q: str | None = None

    def __bool__(self) -> bool:
        return any((self.team, self.owner, self.status, self.signal, self.q))

    def params(self) -> dict[str, str]:
        """The active filters as query parameters (public ids), e.g. for a lazily loaded group's URL."""
        params = {
            "team": str(self.team.public_id) if self.team else None,
            "owner": str(self.owner.public_id) if self.owner else None,
            "status": self.status,
            "signal": self.signal,
            "q": self.q,
        }
        return {k: v for k, v in params.items() if v}


NO_FILTERS = BoardFilters()


@dataclass
class Judged:
    """Every matching objective, lean: [{pk, level, team, status, progress, codes, kr_count, ...}] in board order,
    plus the focus counts (per cycle and owner / team) the full assembly needs for the rows it renders."""

    objectives: list[dict]
    by_owner: dict
    by_team: dict


def _kr_rollup(
    org: Organization, objectives: list[dict], cycles: dict[int, tuple], ctx: assembly.Context
) -> dict[int, tuple[int, float, tuple[str, ...]]]:
    """objective id → (KR count, weighted KR progress, codes of its KRs) for `objectives` ({pk, cycle_pk});
    `cycles`: id → (start, end). Two queries (the owners' check-in slots, then the roll-up)."""
    if not objectives:
        return {}
    params = health_sql.params(org, ctx, cycles)
    params.update(org=org.id, ids=[o["pk"] for o in objectives])
    with connection.cursor() as cursor:
        cursor.execute(_ROLLUP_SQL, params)
        rows = cursor.fetchall()
    return {pk: (count, progress, health_sql.decode(mask)) for pk, count, progress, mask in rows}


def judge(
    org: Organization,
    membership: Membership,
    *,
    cycle: Cycle | None = None,
    filters: BoardFilters = NO_FILTERS,
    level: str | None = None,
    team_key: int | None | bool = False,
    ctx: assembly.Context | None = None,
) -> Judged:
    """Progress and signal codes of every visible objective matching the filters (archived ones only when asked
    for), in board order (position, creation). Two queries, plus one for the cycles when `cycle` is None.

    The filters are applied in Python over the visible objectives of the cycle, which also gives the focus counts
    (objectives per owner / team and cycle) without a query of their own. `level` and `team_key` (a team's pk, or
    None for "no team") narrow to one group of the board. `q` (a search) costs one more query.
    """
    from objectives.selectors import objectives_matching, visible_objectives

    ctx = ctx or assembly.Context.for_org(org)
    team, owner, status, signal, q = filters.team, filters.owner, filters.status, filters.signal, filters.q
    qs = visible_objectives(org, membership)
    if cycle is not None:
        qs = qs.filter(cycle=cycle)
        cycles = {cycle.pk: (cycle.start_date, cycle.end_date)}
    else:
        cycles = {
            c["id"]: (c["start_date"], c["end_date"])
            for c in Cycle.objects.for_org(org).values("id", "start_date", "end_date")
        }
    rows = list(qs.order_by("position", "created_at").values_list(*_LEAN_VALUES))
    # Searched apart from `rows`: the focus counts below need every visible objective, not only the matches.
    found = set(objectives_matching(qs, q).values_list("pk", flat=True)) if q else None
    by_owner: dict = defaultdict(int)
    by_team: dict = defaultdict(int)
    matching = []
    for pk, lvl, st, owner_id, team_id, team_public_id, team_name, cycle_id in rows:
        if st != Objective.Status.ARCHIVED:
            if owner_id:
                by_owner[(cycle_id, owner_id)] += 1
            if team_id:
                by_team[(cycle_id, team_id)] += 1
        if status and st != status or not status and st == Objective.Status.ARCHIVED:
            continue
        if team is not None and team_id != team.pk or owner is not None and owner_id != owner.pk:
            continue
        if level is not None and (lvl != level or team_key is not False and team_id != team_key):
            continue
        if found is not None and pk not in found:
            continue
        matching.append(
            {
                "pk": pk,
                "level": lvl,
                "status": st,
                "owner_pk": owner_id,
                "team_pk": team_id,
                "team": {"id": team_public_id, "name": team_name} if team_id else None,
                "cycle_pk": cycle_id,
            }
        )
    rollup = _kr_rollup(org, matching, cycles, ctx)
    t = ctx.thresholds
    expected_of = {pk: ctx.expected(start, end) for pk, (start, end) in cycles.items()}
    objective_signal_codes = health.objective_signal_codes
    no_krs = (0, 0.0, ())
    judged = []
    for o in matching:
        kr_count, progress, kr_codes = rollup.get(o["pk"], no_krs)
        cycle_pk = o["cycle_pk"]
        codes = set(
            objective_signal_codes(
                status=o["status"],
                has_owner=o["owner_pk"] is not None,
                progress=progress,
                expected=expected_of.get(cycle_pk, 0.0),
                key_results_count=kr_count,
                owner_objectives_in_cycle=by_owner.get((cycle_pk, o["owner_pk"]), 0),
                team_objectives_in_cycle=by_team.get((cycle_pk, o["team_pk"]), 0),
                t=t,
            )
        )
        codes.update(kr_codes)
        if signal and signal not in codes:
            continue
        o.update(progress=progress, codes=codes, kr_count=kr_count)
        judged.append(o)
    return Judged(objectives=judged, by_owner=by_owner, by_team=by_team)


# --- Groups -------------------------------------------------------------------------------------------------------
def group_key(level: str, team: dict | None) -> str:
    return f"{level}:{team['id'] if team else 'none'}"


def _groups(judged: list[dict]) -> list[dict]:
    """[{level, label, count, teams: [group]}] in company → team → personal order, teams by name, no team last."""
    buckets: dict[str, dict[tuple, dict]] = defaultdict(dict)
    for o in judged:
        # Company objectives form one group (a team on one of them is shown on its row); the other levels group by team.
        team = o["team"] if o["level"] != Objective.Level.COMPANY else None
        name = team["name"] if team else ""
        bucket = buckets[o["level"]].setdefault(
            (name == "", name.lower(), str(team["id"]) if team else ""),
            {
                "key": group_key(o["level"], team),
                "level": o["level"],
                "team": team,
                "members": [],
            },
        )
        bucket["members"].append(o)
    levels = []
    for level in LEVEL_ORDER:
        if not buckets.get(level):
            continue
        teams = [_stats(buckets[level][k]) for k in sorted(buckets[level])]
        levels.append(
            {"level": level, "label": LEVEL_LABELS[level], "count": sum(b["count"] for b in teams), "teams": teams}
        )
    return levels


def _stats(bucket: dict) -> dict:
    members = bucket["members"]
    progress = key_results = 0
    counts = dict.fromkeys(GROUP_SIGNALS, 0)
    for o in members:  # one pass: the board sums thousands of objectives into its groups
        progress += o["progress"]
        key_results += o["kr_count"]
        for code in o["codes"]:
            if code in counts:
                counts[code] += 1
    progress /= len(members)
    bucket.update(
        count=len(members),
        key_results=key_results,
        progress=progress,
        progress_pct=round(progress * 100),
        signal_counts=[
            {"code": code, "label": health.LABELS[code], "level": SIGNAL_LEVELS[code], "n": n}
            for code, n in counts.items()
            if n
        ],
        objectives=[],
        expanded=False,
        more=0,
        next_offset=0,
    )
    return bucket


def summary(judged: list[dict]) -> dict:
    signal_counts: dict[str, int] = defaultdict(int)
    for o in judged:
        for code in o["codes"]:
            signal_counts[code] += 1
    progress = sum(o["progress"] for o in judged) / len(judged) if judged else 0.0
    return {
        "objectives": len(judged),
        "key_results": sum(o["kr_count"] for o in judged),
        "progress": progress,
        "progress_pct": round(progress * 100),
        "signals": dict(signal_counts),
    }


def assemble_rows(
    org: Organization, membership: Membership, pks: list[int], judged: Judged, ctx: assembly.Context
) -> list[dict]:
    """Fully assembled objectives (KRs, signals with reasons, owner) for `pks`, in no particular order. Three
    queries; the focus counts come from `judged`."""
    if not pks:
        return []
    from objectives.selectors import visible_objectives

    visible = visible_objectives(org, membership)
    rows = list(assembly.objective_values(org, visible.filter(pk__in=pks)))
    return assembly.assemble_objectives(org, rows, visible, ctx, focus=(judged.by_owner, judged.by_team))


def board_order(judged: Judged) -> list[int]:
    """The judged objectives' pks in the order the board shows them: company, then each team by name, personal."""
    return [o["pk"] for level in _groups(judged.objectives) for bucket in level["teams"] for o in bucket["members"]]


def render_rows(
    org: Organization, membership: Membership, pks: list[int], judged: Judged, ctx: assembly.Context
) -> dict[int, dict]:
    """Fully assembled objectives (KRs, signals with reasons, owner) for the rows on screen. Four queries."""
    assembled = assemble_rows(org, membership, pks, judged, ctx)
    for o in assembled:
        o["chips"] = row_chips(o)
        o["chips_html"] = chips_html(o["chips"])
        o["status_chip_html"] = chips_html([o["status_signal"].as_dict()] if o["status_signal"] else [])
    return {o["pk"]: o for o in assembled}


def chips_html(chips: list[dict]) -> str:
    """Signal chips with their reason as a tooltip, as objectives/_signals.html draws them. Built here (every value
    escaped) because the board draws hundreds of them and a template loop, or format_html, costs ~10x more."""
    out = []
    for c in chips:
        label, reason = escape(c["label"]), escape(c["reason"])
        hint = f"<br><em>{escape(c['hint'])}</em>" if c.get("hint") else ""
        out.append(
            f'<span class="chip chip-{escape(c["level"])} sig" tabindex="0" data-signal="{escape(c["code"])}" '
            f'title="{reason}">{label}<span class="sig-tip" role="tooltip"><strong>{label}:</strong> {reason}{hint}'
            "</span></span> "
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


PACE_CODES = ("on_track", "at_risk", "off_track")


def row_chips(objective: dict) -> list[dict]:
    """Chips for an objective's row, one per label: its own signals, then its KRs' and their initiatives' signals
    (pace chips of the KRs are left out: the objective's progress bar and status chip already say that). A chip
    that several KRs share shows once, "×n", with every reason in its tooltip. The focus code names its rule on
    the row (health.FOCUS_LABELS: too many objectives / KRs / initiatives), so its chips differ; the code stays."""
    grouped: dict[str, dict] = {}

    def add(code: str, label: str, level: str, reason: str, hint: str | None) -> None:
        chip = grouped.setdefault(label, {"code": code, "label": label, "level": level, "reasons": [], "hints": []})
        chip["reasons"].append(reason)
        if hint and hint not in chip["hints"]:
            chip["hints"].append(hint)

    focus_labels = health.FOCUS_LABELS
    for s in objective.get("signals", []):
        if s.code not in PACE_CODES:
            add(s.code, focus_labels.get(s.rule, s.label), s.level, s.reason, s.hint)
    for kr in objective.get("key_results", []):
        for s in kr["signals"]:
            if s.code not in PACE_CODES:
                add(s.code, focus_labels.get(s.rule, s.label), s.level, f"KR “{kr['title']}”: {s.reason}", s.hint)
        for code, level, n in (
            ("blocked", health.RED, kr.get("initiatives_blocked")),
            ("overdue", health.AMBER, kr.get("initiatives_overdue")),
        ):
            if n:  # its initiatives' signals (health.initiative_signals)
                what = "initiative is" if n == 1 else "initiatives are"
                label = health.LABELS[code]
                add(code, label, level, f"KR “{kr['title']}”: {n} {what} {label.lower()}", None)
    chips = []
    for chip in grouped.values():
        count = len(chip["reasons"])
        chips.append(
            {
                "code": chip["code"],
                "label": f"{chip['label']} ×{count}" if count > 1 else chip["label"],
                "level": chip["level"],
                "reason": " · ".join(chip["reasons"]),
                "hint": " ".join(chip["hints"]) or None,
            }
        )
    return chips


def board(
    org: Organization,
    membership: Membership,
    *,
    cycle: Cycle,
    filters: BoardFilters = NO_FILTERS,
    open_group: str | None = None,
) -> dict:
    """The cycle page's data: summary and groups for every match, rows for the first page (and `open_group`)."""
    ctx = assembly.Context.for_org(org)
    judged = judge(org, membership, cycle=cycle, filters=filters, ctx=ctx)
    levels = _groups(judged.objectives)
    budget = FIRST_PAGE
    shown: list[tuple[dict, list[int]]] = []
    for level in levels:
        for bucket in level["teams"]:
            if budget > 0 or bucket["key"] == open_group:
                pks = [o["pk"] for o in bucket["members"][:PAGE]]
                budget -= len(pks)
                shown.append((bucket, pks))
    assembled = render_rows(org, membership, [pk for _, pks in shown for pk in pks], judged, ctx)
    objectives = []
    for bucket, pks in shown:
        bucket["objectives"] = [assembled[pk] for pk in pks if pk in assembled]
        bucket["expanded"] = True
        bucket["more"] = bucket["count"] - len(pks)
        bucket["next_offset"] = len(pks)
        bucket["next_count"] = min(PAGE, bucket["more"])
        objectives.extend(bucket["objectives"])
    for level in levels:
        for bucket in level["teams"]:
            del bucket["members"]
    return {
        "cycle": cycle,
        "today": ctx.today,
        "expected": ctx.expected(cycle.start_date, cycle.end_date),
        "groups": levels,
        "objectives": objectives,
        "summary": summary(judged.objectives),
        "filters": filters,
        "signal_choices": list(health.LABELS.items()),
    }


def parse_group_key(org: Organization, key: str) -> tuple[str, int | None] | None:
    """'team:<team public id>' / 'personal:none' → (level, team pk or None); None when malformed or unknown."""
    level, _, team_part = (key or "").partition(":")
    if level not in Objective.Level.values or not team_part:
        return None
    if team_part == "none":
        return level, None
    try:
        public_id = uuid.UUID(team_part)
    except ValueError:
        return None
    team_pk = Team.objects.for_org(org).filter(public_id=public_id).values_list("pk", flat=True).first()
    return (level, team_pk) if team_pk else None


def group_page(
    org: Organization,
    membership: Membership,
    *,
    cycle: Cycle,
    key: str,
    level: str,
    team_pk: int | None,
    offset: int,
    filters: BoardFilters = NO_FILTERS,
) -> dict:
    """One page of one group's rows (the htmx "open group" / "show more" fragment)."""
    ctx = assembly.Context.for_org(org)
    judged = judge(
        org,
        membership,
        cycle=cycle,
        filters=filters,
        level=level,
        team_key=team_pk if level != Objective.Level.COMPANY else False,
        ctx=ctx,
    )
    members = judged.objectives
    pks = [o["pk"] for o in members[offset : offset + PAGE]]
    assembled = render_rows(org, membership, pks, judged, ctx)
    end = offset + len(pks)
    return {
        "key": key,
        "objectives": [assembled[pk] for pk in pks if pk in assembled],
        "count": len(members),
        "more": max(len(members) - end, 0),
        "next_count": min(PAGE, max(len(members) - end, 0)),
        "next_offset": end,
    }
