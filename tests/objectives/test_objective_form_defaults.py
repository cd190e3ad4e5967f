"""The new-objective form starts on values that can be submitted as they are (only the title to type): the
creator's team when they are in exactly one, else company level for an admin and personal for a member."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from accounts.models import TeamMember
from objectives.models import Objective
from tests.factories import TeamFactory

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


class _FormValues(HTMLParser):
    """The values a browser would submit for a form's inputs and selects, as rendered."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._select = None
        self._first = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button", "checkbox", "radio"):
            self.values[a["name"]] = a.get("value") or ""
        elif tag == "textarea" and a.get("name"):
            self.values[a["name"]] = ""
        elif tag == "select":
            self._select, self._first = a.get("name"), None
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._first is None:
                self._first = value
                self.values.setdefault(self._select, value)
            if "selected" in a:
                self.values[self._select] = value

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def _form(client, cycle):
    path = reverse("objectives:objective_create", args=[cycle.organization.slug, cycle.public_id])
    response = client.get(path, **HX)
    assert response.status_code == 200
    parser = _FormValues()
    parser.feed(response.content.decode())
    return path, parser.values


def _submit_as_shown(client, cycle, title):
    path, values = _form(client, cycle)
    values.pop("csrfmiddlewaretoken", None)
    response = client.post(path, {**values, "title": title}, **HX)
    assert response.status_code == 204, response.content.decode()
    return Objective.objects.get(organization=cycle.organization, title=title), values


def test_a_member_of_one_team_starts_on_that_team(client_for, member, cycle):
    team = TeamFactory(organization=cycle.organization, name="Growth")
    TeamFactory(organization=cycle.organization, name="Platform")  # not theirs
    TeamMember.objects.create(organization=cycle.organization, team=team, membership=member)
    objective, values = _submit_as_shown(client_for(member), cycle, "Win the mid-market")
    assert values["level"] == "team" and objective.team == team and objective.owner == member


def test_a_member_without_one_team_starts_personal(client_for, member, cycle):
    objective, _ = _submit_as_shown(client_for(member), cycle, "Learn SQL")
    assert objective.level == Objective.Level.PERSONAL and objective.team is None
    for name in ("Growth", "Platform"):  # two teams: which one is not ours to guess
        team = TeamFactory(organization=cycle.organization, name=name)
        TeamMember.objects.create(organization=cycle.organization, team=team, membership=member)
    objective, _ = _submit_as_shown(client_for(member), cycle, "Learn Rust")
    assert objective.level == Objective.Level.PERSONAL


def test_an_admin_without_one_team_starts_at_company_level(client_for, admin, cycle):
    objective, _ = _submit_as_shown(client_for(admin), cycle, "Grow revenue")
    assert objective.level == Objective.Level.COMPANY and objective.owner == admin
