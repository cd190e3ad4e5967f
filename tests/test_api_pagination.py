"""Cursor pages visit every row exactly once, also when many rows share a creation instant (bulk imports)."""

import random
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from objectives.models import Objective
from tests.factories_okr import CycleFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db


def test_pages_over_tied_timestamps_visit_every_row_once(org, member, api_client_for):
    cycle = CycleFactory(organization=org)
    objectives = [ObjectiveFactory(cycle=cycle, organization=org) for _ in range(23)]
    base = datetime(2026, 11, 1, 9, tzinfo=UTC)
    for i, o in enumerate(objectives):  # four rows per instant
        Objective.objects.filter(pk=o.pk).update(created_at=base + timedelta(seconds=i // 4))
    for o in random.Random(4).sample(objectives, len(objectives)):  # heap order unlike id order
        Objective.objects.filter(pk=o.pk).update(title=o.title + ".")
    client = api_client_for(member)
    url = reverse("api-objectives-list", kwargs={"org_slug": org.slug}) + "?page_size=5"
    seen, pages = [], 0
    while url:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url, pages = body["next"], pages + 1
    assert pages == 5
    assert sorted(seen) == sorted(str(o.public_id) for o in objectives)  # none skipped, none repeated


def test_page_order_is_total(org, member, api_client_for):
    """The order inside a tie is part of the cursor's contract: created_at, then id."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ObjectiveFactory(cycle=CycleFactory(organization=org), organization=org)
    with CaptureQueriesContext(connection) as ctx:
        api_client_for(member).get(reverse("api-objectives-list", kwargs={"org_slug": org.slug}))
    # The ORM may name the id by its position in the select list ("1").
    tie_break = re.compile(r'ORDER BY "objectives_objective"\."created_at" DESC, (1|"objectives_objective"\."id") DESC')
    assert any(tie_break.search(q["sql"]) for q in ctx.captured_queries)
