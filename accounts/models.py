"""Identity and tenancy: users, organizations (tenants), memberships, teams, invitations, API tokens, audit."""

import uuid
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from okrapp.crypto import EncryptedTextField
from okrapp.db import OrgScopedQuerySet, TenantModel

TIMEZONE_CHOICES = sorted((tz, tz) for tz in zoneinfo.available_timezones() if "/" in tz or tz == "UTC")


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class Role(models.IntegerChoices):
    # Integers so roles compare: VIEWER < MEMBER < ADMIN < OWNER.
    VIEWER = 10, "Viewer"
    MEMBER = 20, "Member"
    ADMIN = 30, "Admin"
    OWNER = 40, "Owner"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person; logs in with an email address (allauth). Belongs to organizations through memberships."""

    username = None
    first_name = None
    last_name = None
    email = models.EmailField("email address", unique=True)
    name = models.CharField(max_length=150, blank=True)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or self.email.split("@")[0]

    @property
    def initials(self) -> str:
        parts = self.display_name.replace(".", " ").replace("_", " ").split()
        return "".join(p[0] for p in parts[:2]).upper() or "?"

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_name


class Organization(models.Model):
    """The tenant. Everything a customer creates hangs off one of these."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    timezone = models.CharField(max_length=64, choices=TIMEZONE_CHOICES, default="UTC")
    checkin_weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, default=Weekday.MONDAY)
    checkin_hour = models.PositiveSmallIntegerField(default=9, help_text="Local hour, 0-23.")
    fiscal_year_start_month = models.PositiveSmallIntegerField(default=1)
    # Tunable thresholds for health signals (DESIGN.md §3); missing keys take the documented defaults.
    signal_settings = models.JSONField(default=dict, blank=True)
    # Nudge pipeline settings (checkins/nudge_dispatch.py; edited on the org's check-in settings page).
    reminders_enabled = models.BooleanField(default=True, help_text="Send one reminder ~2 days after the nudge.")
    # A Slack incoming-webhook URL is a secret (anyone holding it can post into the customer's Slack): encrypted at
    # rest, validated by checkins.slack.slack_webhook_validate (https, Slack host, <= 300 chars), never shown back.
    slack_webhook_url = EncryptedTextField(blank=True, default="")
    digest_weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, default=Weekday.MONDAY)
    digest_hour = models.PositiveSmallIntegerField(default=8, help_text="Local hour, 0-23.")
    # Compare-and-set key for the weekly leader digest: the local week it was last sent for.
    last_digest_week = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(checkin_hour__gte=0, checkin_hour__lte=23), name="org_hour_0_23"),
            models.CheckConstraint(
                condition=models.Q(fiscal_year_start_month__gte=1, fiscal_year_start_month__lte=12),
                name="org_fiscal_month_1_12",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(TenantModel):
    """A user's place in one organization: role, nudge timing overrides, manager."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.PositiveSmallIntegerField(choices=Role.choices, default=Role.MEMBER)
    timezone = models.CharField(max_length=64, choices=TIMEZONE_CHOICES, blank=True, help_text="Blank: org default.")
    checkin_weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, null=True, blank=True)
    checkin_hour = models.PositiveSmallIntegerField(null=True, blank=True)
    manager = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports")
    is_active = models.BooleanField(default=True)
    digest_opt_out = models.BooleanField(default=False)
    next_nudge_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_user_per_org"),
            models.CheckConstraint(
                condition=models.Q(checkin_hour__isnull=True) | models.Q(checkin_hour__gte=0, checkin_hour__lte=23),
                name="membership_hour_0_23",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization_id} ({self.get_role_display()})"

    @property
    def effective_timezone(self) -> str:
        return self.timezone or self.organization.timezone

    @property
    def effective_checkin_weekday(self) -> int:
        return self.checkin_weekday if self.checkin_weekday is not None else self.organization.checkin_weekday

    @property
    def effective_checkin_hour(self) -> int:
        return self.checkin_hour if self.checkin_hour is not None else self.organization.checkin_hour

    @property
    def role_name(self) -> str:
        return Role(self.role).name.lower()

    @property
    def is_admin(self) -> bool:
        return self.role >= Role.ADMIN


class Team(TenantModel):
    name = models.CharField(max_length=120)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    lead = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="led_teams")
    members = models.ManyToManyField(Membership, through="TeamMember", related_name="teams", blank=True)
    # Optional Slack incoming webhook for this team's nudges and digest (else the org's). Encrypted: see Organization.
    slack_webhook_url = EncryptedTextField(blank=True, default="")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="team_unique_name_per_org")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # A team cannot be its own ancestor.
        node, seen = self.parent, set()
        while node is not None:
            if node.pk == self.pk or node.pk in seen:
                raise ValidationError({"parent": "A team cannot sit under itself or one of its own sub-teams."})
            seen.add(node.pk)
            node = node.parent


class TeamMember(TenantModel):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="team_members")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="team_members")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "membership"], name="teammember_unique")]


class Invitation(TenantModel):
    """An emailed, single-use invitation with a role. Only the token's hash is stored."""

    email = models.EmailField()
    role = models.PositiveSmallIntegerField(choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(Membership, null=True, on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Stamped by the send task: a redelivered task message finds it set and does not email twice.
    email_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.email}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class ApiToken(TenantModel):
    """A secret for scripts. Acts as its membership inside its one organization; stored as a SHA-256 hash."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    token_hash = models.CharField(max_length=64)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuditEvent(models.Model):
    """Who did what, where, when. `organization` is empty only for events before any org is known (logins)."""

    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    verb = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=200, blank=True)
    diff = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["organization", "-at"], name="audit_org_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.verb}"


class OutboxMessage(models.Model):
    """A copy of every email sent by the dev outbox backend (make run, browser tests). Not tenant data."""

    to = models.TextField()
    subject = models.CharField(max_length=300)
    body = models.TextField()
    html = models.TextField(blank=True)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to}"
