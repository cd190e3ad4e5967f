"""The people and teams pages stay one bounded render however large the organization: people are searched and paged,
the team form draws its pickers in Python, and neither page runs a query per person or team."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import TeamMember
from accounts.views import MEMBERS_PER_PAGE
from tests.accounts.test_views import url
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def _people(org, n, prefix="person"):
    return [
        MembershipFactory(organization=org, user=UserFactory(email=f"{prefix}{i:03}@example.com")) for i in range(n)
    ]


def test_people_are_paged_and_searchable(client_for, admin):
    org = admin.organization
    _people(org, MEMBERS_PER_PAGE + 10)
    _people(org, 3, prefix="zed")
    client = client_for(admin)
    first = client.get(url("members", org)).content.decode()
    assert first.count('class="role-form"') == MEMBERS_PER_PAGE  # one role form per listed person
    assert "Page 1 of 2" in first and "page=2" in first
    second = client.get(url("members", org) + "?page=2").content.decode()
    assert "Page 2 of 2" in second and "zed002@example.com" in second
    found = client.get(url("members", org) + "?q=ZED").content.decode()
    assert {"zed000@example.com", "zed001@example.com", "zed002@example.com"} <= set(
        re.findall(r"zed\d+@example\.com", found)
    )
    assert "person000@example.com" not in found and "3 matches" in found
    nobody = client.get(url("members", org) + "?q=nobody-like-this").content.decode()
    assert "Nobody matches" in nobody
    assert client.get(url("members", org) + "?page=999").status_code == 200  # out of range: the last page


def test_people_and_teams_pages_use_constant_queries(client_for, admin):
    org = admin.organization

    def counts() -> tuple[int, int]:
        client = client_for(admin)
        client.get(url("members", org))  # the first request of a session also saves the session
        out = []
        for name in ("members", "teams"):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url(name, org)).status_code == 200
            out.append(len(ctx.captured_queries))
        return tuple(out)

    small = counts()
    people = _people(org, 80)
    for i in range(12):
        team = TeamFactory(organization=org, name=f"Team {i}", lead=people[i])
        for p in people[i : i + 5]:
            TeamMember.objects.create(organization=org, team=team, membership=p)
    assert counts() == small


def test_team_form_pickers_keep_their_ids_labels_and_choices(client_for, admin, member, outsider):
    org = admin.organization
    TeamFactory(organization=org, name="Engineering")
    page = client_for(admin).get(url("teams", org)).content.decode()
    assert '<select id="id_lead" name="lead">' in page and '<select id="id_parent" name="parent">' in page
    assert f'name="members" value="{member.pk}" id="id_members_' in page
    assert '<label for="id_members_0">' in page
    assert outsider.user.email not in page  # choices come from this organization only
