"""Demo organization and people for `make run` (idempotent: keyed on the demo org's slug and emails)."""

from allauth.account.models import EmailAddress
from django.db import transaction

from accounts.models import Membership, Organization, Role, Team, TeamMember, User

DEMO_SLUG = "demo"
DEMO_PASSWORD = "demo-password-123"
DEMO_PEOPLE = [
    # email, name, role, team
    ("demo@okrapp.local", "Dana Demo", Role.OWNER, None),
    ("lena@okrapp.local", "Lena Lead", Role.ADMIN, "Growth"),
    ("max@okrapp.local", "Max Member", Role.MEMBER, "Growth"),
    ("pia@okrapp.local", "Pia Platform", Role.MEMBER, "Platform"),
    ("omar@okrapp.local", "Omar Ops", Role.MEMBER, "Platform"),
    ("vic@okrapp.local", "Vic Viewer", Role.VIEWER, None),
]


@transaction.atomic
def seed_demo_people() -> tuple[Organization, dict[str, Membership], dict[str, Team]]:
    org, _ = Organization.objects.get_or_create(
        slug=DEMO_SLUG, defaults={"name": "Demo Co", "timezone": "Europe/Berlin", "checkin_weekday": 0}
    )
    people: dict[str, Membership] = {}
    for email, name, role, _team in DEMO_PEOPLE:
        user, created = User.objects.get_or_create(email=email, defaults={"name": name})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
        people[email], _ = Membership.objects.get_or_create(organization=org, user=user, defaults={"role": role})
    teams: dict[str, Team] = {}
    for team_name in ("Growth", "Platform"):
        teams[team_name], _ = Team.objects.get_or_create(organization=org, name=team_name)
    teams["Growth"].lead = people["lena@okrapp.local"]
    teams["Growth"].save(update_fields=["lead"])
    for email, _name, _role, team_name in DEMO_PEOPLE:
        if team_name:
            TeamMember.objects.get_or_create(organization=org, team=teams[team_name], membership=people[email])
    return org, people, teams
