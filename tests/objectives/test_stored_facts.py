"""KeyResult.progress (a PostgreSQL generated column) and the initiative counts (kept by a trigger) against the
Python definitions they store, for every write path."""

from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from initiatives.models import Initiative
from objectives.models import KeyResult
from objectives.progress import kr_progress
from tests.factories_okr import InitiativeFactory, KeyResultFactory

pytestmark = pytest.mark.django_db

decimals = st.decimals(min_value=-(10**6), max_value=10**6, places=4, allow_nan=False, allow_infinity=False)
maybe = st.one_of(st.none(), decimals)


@pytest.fixture
def kr(owner):
    org = owner.organization
    return KeyResultFactory(objective__organization=org, objective__cycle__organization=org)


def _stored(pk: int) -> float:
    return KeyResult.objects.filter(pk=pk).values_list("progress", flat=True).get()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(["increase", "decrease", "maintain", "milestone"]),
    baseline=decimals,
    target=decimals,
    current=decimals,
    band_low=maybe,
    band_high=maybe,
    steps=st.integers(min_value=0, max_value=6),
)
def test_stored_progress_equals_the_python_rule(kr, kind, baseline, target, current, band_low, band_high, steps):
    milestone_steps = [f"step {i}" for i in range(steps)]
    KeyResult.objects.filter(pk=kr.pk).update(
        kind=kind,
        baseline=baseline,
        target=target,
        current=current,
        band_low=band_low,
        band_high=band_high,
        milestone_steps=milestone_steps,
    )
    expected = kr_progress(
        kind=kind,
        baseline=baseline,
        target=target,
        current=current,
        band_low=band_low,
        band_high=band_high,
        milestone_steps=milestone_steps,
    ).value
    assert _stored(kr.pk) == pytest.approx(expected, abs=1e-12)


def test_stored_progress_follows_save_and_bulk_writes(kr):
    kr.kind, kr.baseline, kr.target, kr.current = "decrease", Decimal("40"), Decimal("20"), Decimal("35")
    kr.save()
    assert _stored(kr.pk) == pytest.approx(0.25)
    KeyResult.objects.bulk_update([KeyResult(pk=kr.pk, current=Decimal("10"))], ["current"])
    assert _stored(kr.pk) == 1.0
    kr.refresh_from_db()
    assert kr.progress == 1.0


_PER_STATUS = ("initiatives_in_progress", "initiatives_blocked", "initiatives_cancelled")


def _counts(pk: int) -> tuple[int, int]:
    """(total, done) as stored; and every stored per-status count must equal a recount, after every write."""
    row = KeyResult.objects.filter(pk=pk).values_list("initiatives_total", "initiatives_done", *_PER_STATUS).get()
    statuses = list(Initiative.objects.filter(key_result_id=pk).values_list("status", flat=True))
    assert row[2:] == tuple(statuses.count(s) for s in ("in_progress", "blocked", "cancelled"))
    return row[:2]


def _recount(pk: int) -> tuple[int, int]:
    rows = Initiative.objects.filter(key_result_id=pk).values_list("status", flat=True)
    return sum(s != "cancelled" for s in rows), sum(s == "done" for s in rows)


def test_initiative_counts_follow_every_write(kr, owner):
    other = KeyResultFactory(objective=kr.objective)
    a = InitiativeFactory(key_result=kr, status="in_progress")
    b = InitiativeFactory(key_result=kr, status="done")
    c = InitiativeFactory(key_result=kr, status="cancelled")
    assert _counts(kr.pk) == (2, 1) == _recount(kr.pk)

    a.status = "done"
    a.save()
    assert _counts(kr.pk) == (2, 2)
    Initiative.objects.filter(pk=c.pk).update(status="not_started")  # a queryset update is counted too
    assert _counts(kr.pk) == (3, 2)
    Initiative.objects.filter(pk=b.pk).update(key_result=other)  # moved to another KR
    assert _counts(kr.pk) == (2, 1) == _recount(kr.pk)
    assert _counts(other.pk) == (1, 1) == _recount(other.pk)
    a.delete()
    assert _counts(kr.pk) == (1, 0) == _recount(kr.pk)
    Initiative.objects.bulk_create(
        [
            Initiative(organization=kr.organization, key_result=kr, title=f"bulk {i}", status=status)
            for i, status in enumerate(["done", "done", "blocked", "cancelled"])
        ]
    )
    assert _counts(kr.pk) == (4, 2) == _recount(kr.pk)
    Initiative.objects.filter(key_result=kr).delete()
    assert _counts(kr.pk) == (0, 0)


def test_counts_trigger_is_installed_for_updates_of_status_and_key_result_only():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'initiatives_initiative'::regclass AND NOT tgisinternal "
            "ORDER BY tgname"
        )
        names = [row[0] for row in cursor.fetchall()]
    assert names == ["okr_initiative_counts_insert_delete", "okr_initiative_counts_update"]


_STATUSES = ["not_started", "in_progress", "blocked", "done", "cancelled"]
_OPS = st.lists(
    st.tuples(
        st.sampled_from(["create", "status", "move", "delete", "bulk_status"]),
        st.sampled_from(_STATUSES),
        st.integers(min_value=0, max_value=50),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_OPS)
def test_per_status_counts_equal_a_recount_after_any_sequence_of_writes(kr, ops):
    """Random walks of creates, saves, moves between KRs, deletes and queryset updates: after each, both KRs'
    stored counts (total, done, in progress, blocked, cancelled) equal a recount of their initiatives."""
    other = KeyResultFactory(objective=kr.objective)
    krs = [kr, other]
    for op, status, n in ops:
        existing = list(Initiative.objects.filter(key_result__in=krs).order_by("pk"))
        if op == "create" or not existing:
            InitiativeFactory(key_result=krs[n % 2], status=status)
        elif op == "status":
            initiative = existing[n % len(existing)]
            initiative.status = status
            initiative.save()
        elif op == "move":
            initiative = existing[n % len(existing)]
            Initiative.objects.filter(pk=initiative.pk).update(key_result=krs[initiative.key_result_id == kr.pk])
        elif op == "delete":
            existing[n % len(existing)].delete()
        else:
            Initiative.objects.filter(key_result=krs[n % 2]).update(status=status)
        for each in krs:
            assert _counts(each.pk) == _recount(each.pk)


def test_the_migration_backfills_every_count_from_the_initiatives(kr):
    """objectives 0005 recounts what is already there: counts wiped by hand come back from its SQL."""
    from importlib import import_module

    migration = import_module("objectives.migrations.0005_kr_initiative_counts_per_status")
    for status in ["done", "blocked", "blocked", "cancelled", "in_progress", "not_started"]:
        InitiativeFactory(key_result=kr, status=status)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE objectives_keyresult SET initiatives_total = 0, initiatives_done = 0, initiatives_in_progress = 0,"
            " initiatives_blocked = 0, initiatives_cancelled = 0 WHERE id = %s",
            [kr.pk],
        )
        cursor.execute(migration.COUNTS_FUNCTION)
    assert _counts(kr.pk) == (5, 1) == _recount(kr.pk)
