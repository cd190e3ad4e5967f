"""Cycles, objectives, key results, alignment edges and KR revisions (DESIGN.md §2)."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models.expressions import RawSQL

from objectives.progress_sql import KR_PROGRESS_SQL, KR_TASK_IN_DISGUISE_SQL
from okrapp.db import LONG_TEXT_MAX, TenantModel


class Cycle(TenantModel):
    """A time box for OKRs. A year contains quarters (quarter.parent = the year)."""

    class Kind(models.TextChoices):
        QUARTER = "quarter", "Quarter"
        YEAR = "year", "Year"
        CUSTOM = "custom", "Custom"

    class Status(models.TextChoices):
        PLANNING = "planning", "Planning"
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"

    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.QUARTER)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNING)
    start_date = models.DateField()
    end_date = models.DateField()
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")

    class Meta:
        ordering = ["-start_date", "kind"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gt=models.F("start_date")), name="cycle_end_after_start"
            ),
            models.UniqueConstraint(fields=["organization", "name"], name="cycle_unique_name_per_org"),
        ]
        indexes = [models.Index(fields=["organization", "status"], name="cycle_org_status")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.start_date and self.end_date and self.end_date <= self.start_date:
            raise ValidationError({"end_date": "The cycle must end after it starts."})
        if self.parent_id:
            if self.parent.kind != Cycle.Kind.YEAR:
                raise ValidationError({"parent": "Only a year can contain other cycles."})
            if self.start_date < self.parent.start_date or self.end_date > self.parent.end_date:
                raise ValidationError({"parent": f"The cycle must lie inside {self.parent.name}."})


class Objective(TenantModel):
    """Qualitative, time-bound goal. Aligns to a parent objective or to one specific parent KR."""

    class Level(models.TextChoices):
        COMPANY = "company", "Company"
        TEAM = "team", "Team"
        PERSONAL = "personal", "Personal"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"
        ARCHIVED = "archived", "Archived"

    class Visibility(models.TextChoices):
        ORGANIZATION = "organization", "Everyone in the organization"
        TEAM = "team", "Team only"
        PRIVATE = "private", "Private"

    cycle = models.ForeignKey(Cycle, on_delete=models.PROTECT, related_name="objectives")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, validators=[MaxLengthValidator(LONG_TEXT_MAX)])
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.TEAM)
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="objectives"
    )
    owner = models.ForeignKey(
        "accounts.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_objectives"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    visibility = models.CharField(max_length=14, choices=Visibility.choices, default=Visibility.ORGANIZATION)
    parent_objective = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="child_objectives"
    )
    parent_key_result = models.ForeignKey(
        "objectives.KeyResult", null=True, blank=True, on_delete=models.SET_NULL, related_name="child_objectives"
    )
    retrospective = models.TextField(blank=True, validators=[MaxLengthValidator(LONG_TEXT_MAX)])
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(parent_objective__isnull=False, parent_key_result__isnull=False),
                name="objective_one_primary_parent",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "cycle", "status"], name="objective_org_cycle_status"),
            models.Index(fields=["organization", "owner"], name="objective_org_owner"),
            models.Index(fields=["organization", "team"], name="objective_org_team"),
            # Focus counts (objectives per owner / team in a cycle), read per listed row by the API and the board.
            models.Index(fields=["organization", "cycle", "owner"], name="objective_org_cycle_owner"),
            models.Index(fields=["organization", "cycle", "team"], name="objective_org_cycle_team"),
            # API lists page newest first (cursor pagination): walk this index and stop after one page.
            models.Index(fields=["organization", "-created_at"], name="objective_org_created"),
        ]

    def __str__(self) -> str:
        return self.title


class KeyResult(TenantModel):
    """A measurable change from baseline to target with one named owner. Progress is computed, never typed."""

    class Kind(models.TextChoices):
        INCREASE = "increase", "Increase to"
        DECREASE = "decrease", "Decrease to"
        MAINTAIN = "maintain", "Maintain within"
        MILESTONE = "milestone", "Milestone"

    class Unit(models.TextChoices):
        PERCENT = "percent", "%"
        NUMBER = "number", "Number"
        CURRENCY = "currency", "Currency"
        CUSTOM = "custom", "Custom label"
        NONE = "none", "No unit"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"

    class DataSource(models.TextChoices):
        MANUAL = "manual", "Manual check-ins"
        API = "api", "API"
        JIRA_JQL = "jira_jql", "Jira (JQL)"
        ASANA_PROJECT = "asana_project", "Asana project"

    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="key_results")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, validators=[MaxLengthValidator(LONG_TEXT_MAX)])
    owner = models.ForeignKey(
        "accounts.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_key_results"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.INCREASE)
    unit = models.CharField(max_length=10, choices=Unit.choices, default=Unit.NUMBER)
    unit_label = models.CharField(max_length=20, blank=True, help_text="Currency code or custom unit, e.g. EUR, NPS.")
    decimals = models.PositiveSmallIntegerField(default=0)
    baseline = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    target = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    current = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    # Maintain KRs: stay within [band_low, band_high]; either side may be open.
    band_low = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    band_high = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    # Staged milestones: an ordered list of step titles; `current` counts the steps done. Empty = binary (0/1).
    milestone_steps = models.JSONField(default=list, blank=True)
    weight = models.DecimalField(max_digits=6, decimal_places=2, default=1)
    confidence = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Owner's latest confidence, 0-10.")
    data_source = models.CharField(max_length=14, choices=DataSource.choices, default=DataSource.MANUAL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    score = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True, help_text="0.0-1.0 at close.")
    last_checkin_at = models.DateTimeField(null=True, blank=True)
    position = models.PositiveIntegerField(default=0)
    # Stored so that lists, the board and the map read one float (objectives.progress_sql: same rules as
    # progress.kr_progress, computed by PostgreSQL on every write, whatever the write path).
    progress = models.GeneratedField(
        expression=RawSQL(KR_PROGRESS_SQL, ()),  # noqa: S611 - a constant expression
        output_field=models.FloatField(),
        db_persist=True,
        editable=False,
    )
    task_in_disguise = models.GeneratedField(
        expression=RawSQL(KR_TASK_IN_DISGUISE_SQL, ()),  # noqa: S611 - a constant expression
        output_field=models.BooleanField(),
        db_persist=True,
        editable=False,
    )
    # Initiatives that count for the health signals (cancelled ones do not) and how many of them are done, in
    # progress, blocked; and the cancelled ones (not started = total - done - in progress - blocked). Kept by a
    # trigger on initiatives_initiative (migrations objectives 0004, 0005), so every write path counts.
    initiatives_total = models.PositiveIntegerField(default=0, editable=False)
    initiatives_done = models.PositiveIntegerField(default=0, editable=False)
    initiatives_in_progress = models.PositiveIntegerField(default=0, editable=False)
    initiatives_blocked = models.PositiveIntegerField(default=0, editable=False)
    initiatives_cancelled = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["position", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(confidence__isnull=True) | models.Q(confidence__gte=0, confidence__lte=10),
                name="kr_confidence_0_10",
            ),
            models.CheckConstraint(condition=models.Q(weight__gt=0), name="kr_weight_positive"),
            models.CheckConstraint(
                condition=~models.Q(status="active", owner__isnull=True), name="kr_active_needs_owner"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "objective"], name="kr_org_objective"),
            models.Index(fields=["organization", "owner", "status"], name="kr_org_owner_status"),
            models.Index(fields=["organization", "-created_at"], name="kr_org_created"),
        ]

    def __str__(self) -> str:
        return self.title


class Contribution(TenantModel):
    """A secondary, weighted alignment edge: this objective also contributes to that KR (shown on the map)."""

    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="contributions")
    key_result = models.ForeignKey(KeyResult, on_delete=models.CASCADE, related_name="contributions")
    weight = models.DecimalField(max_digits=6, decimal_places=2, default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["objective", "key_result"], name="contribution_unique"),
            models.CheckConstraint(condition=models.Q(weight__gt=0), name="contribution_weight_positive"),
        ]


class Revision(TenantModel):
    """A change to a live KR's baseline, target, kind, unit or owner, with the required rationale."""

    key_result = models.ForeignKey(KeyResult, on_delete=models.CASCADE, related_name="revisions")
    author = models.ForeignKey("accounts.Membership", null=True, on_delete=models.SET_NULL, related_name="+")
    changes = models.JSONField(help_text='{"field": [old, new], ...}')
    rationale = models.TextField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "key_result", "-created_at"], name="revision_org_kr")]

    def __str__(self) -> str:
        return f"Revision of {self.key_result_id}: {', '.join(self.changes)}"
