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


def _counts(pk: int) -> tuple[int, int]:
    return KeyResult.objects.filter(pk=pk).values_list("initiatives_total", "initiatives_done").get()


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
