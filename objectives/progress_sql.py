"""objectives.progress.kr_progress as one SQL expression, for the stored `KeyResult.progress` generated column.

Lists, the cycle board and the alignment map read thousands of KRs at a time; with progress stored by PostgreSQL
next to the values it is computed from, they read one float instead of eight columns and never recompute it,
and no write path (services, bulk loads, integrations, raw SQL) can leave it out of date. The Python function
stays the definition: tests/objectives/test_progress_sql.py checks that PostgreSQL computes the same value for
every kind on random inputs. Arithmetic is done in float8, in the same order as the Python code, so both round
alike.
"""

from objectives.health import ACTIVITY_VERBS
from objectives.progress import ONE_SIDED_TOLERANCE

_CUR = "current::float8"
_BASE = "baseline::float8"
_TGT = "target::float8"
_BOTH_OPEN = "(band_low IS NULL AND band_high IS NULL)"
_ONE_OPEN = "(band_low IS NULL OR band_high IS NULL)"
# Maintain KRs: with no band at all the target is the band; a reversed band is read low..high.
_LO = (
    f"(CASE WHEN {_BOTH_OPEN} THEN {_TGT} WHEN {_ONE_OPEN} THEN band_low::float8 "
    "ELSE LEAST(band_low::float8, band_high::float8) END)"
)
_HI = (
    f"(CASE WHEN {_BOTH_OPEN} THEN {_TGT} WHEN {_ONE_OPEN} THEN band_high::float8 "
    "ELSE GREATEST(band_low::float8, band_high::float8) END)"
)


def _clamp(expr: str) -> str:
    return f"LEAST(GREATEST({expr}, 0::float8), 1::float8)"


def _reference(bound: str) -> str:
    """The band width, or for one-sided and zero-width bands a share of the bound's magnitude (1 when it is 0)."""
    share = f"(abs({bound}) * {ONE_SIDED_TOLERANCE!r}::float8)"
    return (
        f"(CASE WHEN {_LO} IS NOT NULL AND {_HI} IS NOT NULL AND {_HI} - {_LO} > 0 THEN {_HI} - {_LO} "
        f"WHEN {share} = 0 THEN 1::float8 ELSE {share} END)"
    )


_MAINTAIN = (
    f"(CASE WHEN {_LO} IS NOT NULL AND {_CUR} < {_LO} THEN {_clamp(f'1 - ({_LO} - {_CUR}) / {_reference(_LO)}')} "
    f"WHEN {_HI} IS NOT NULL AND {_CUR} > {_HI} THEN {_clamp(f'1 - ({_CUR} - {_HI}) / {_reference(_HI)}')} "
    "ELSE 1::float8 END)"
)
_STEPS = "(CASE WHEN jsonb_typeof(milestone_steps) = 'array' THEN jsonb_array_length(milestone_steps) ELSE 0 END)"
_MILESTONE = (
    f"(CASE WHEN {_STEPS} > 0 THEN {_clamp(f'floor({_CUR}) / {_STEPS}')} "
    f"WHEN {_CUR} >= 1 THEN 1::float8 ELSE 0::float8 END)"
)
_DIRECTED = (
    f"(CASE WHEN {_TGT} - {_BASE} = 0 THEN "
    f"(CASE WHEN ({_CUR} - {_TGT}) * (CASE WHEN kind = 'decrease' THEN -1 ELSE 1 END) >= 0 THEN 1::float8 "
    "ELSE 0::float8 END) "
    f"WHEN ({_CUR} - {_BASE}) * ({_TGT} - {_BASE}) < 0 THEN 0::float8 "
    f"ELSE {_clamp(f'({_CUR} - {_BASE}) / ({_TGT} - {_BASE})')} END)"
)

KR_PROGRESS_SQL = (
    f"(CASE WHEN kind = 'milestone' THEN {_MILESTONE} WHEN kind = 'maintain' THEN {_MAINTAIN} ELSE {_DIRECTED} END)"
)

# objectives.health's "task in disguise" test (it depends on the KR's own columns only, so it is stored too):
# milestone, no unit, the first word an activity verb, or baseline = target (except maintain KRs).
_VERBS = ", ".join(f"'{verb}'" for verb in sorted(v for v in ACTIVITY_VERBS if v))
KR_TASK_IN_DISGUISE_SQL = (
    "(kind = 'milestone' OR unit = 'none' "
    f"OR COALESCE(lower(substring(title FROM '[A-Za-z]+')) = ANY(ARRAY[{_VERBS}]), false) "
    "OR (kind <> 'maintain' AND baseline::float8 = target::float8))"
)
