"""Initiatives: the bets expected to move a key result."""

from django.core.validators import MaxLengthValidator
from django.db import models

from okrapp.db import LONG_TEXT_MAX, TenantModel


class Initiative(TenantModel):
    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        IN_PROGRESS = "in_progress", "In progress"
        BLOCKED = "blocked", "Blocked"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    key_result = models.ForeignKey("objectives.KeyResult", on_delete=models.CASCADE, related_name="initiatives")
    title = models.CharField(max_length=200)
    hypothesis = models.TextField(
        blank=True, help_text="Why this should move the key result.", validators=[MaxLengthValidator(LONG_TEXT_MAX)]
    )
    owner = models.ForeignKey(
        "accounts.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_initiatives"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NOT_STARTED)
    due_date = models.DateField(null=True, blank=True)
    # Manual progress 0-100; integrations later roll it up from linked Asana/Jira items.
    progress = models.PositiveSmallIntegerField(default=0)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="initiative_progress_0_100"),
        ]
        indexes = [
            models.Index(fields=["organization", "key_result"], name="initiative_org_kr"),
            models.Index(fields=["organization", "owner", "status"], name="initiative_org_owner_status"),
            models.Index(fields=["organization", "-created_at"], name="initiative_org_created"),
        ]

    def __str__(self) -> str:
        return self.title
