"""Weekly check-ins and the receipts that prove each nudge went out once (DESIGN.md §6)."""

from django.contrib.postgres.fields import ArrayField
from django.db import models

from okrapp.db import TenantModel


class CheckIn(TenantModel):
    """One update of a KR: value, confidence, comment. Kept forever; the latest in a week wins in charts."""

    key_result = models.ForeignKey("objectives.KeyResult", on_delete=models.CASCADE, related_name="checkins")
    author = models.ForeignKey("accounts.Membership", null=True, on_delete=models.SET_NULL, related_name="checkins")
    value = models.DecimalField(max_digits=18, decimal_places=4)
    confidence = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    week_start = models.DateField(help_text="Monday of the ISO week this check-in counts for.")
    is_late = models.BooleanField(default=False, help_text="Made after the cycle closed.")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(confidence__isnull=True) | models.Q(confidence__gte=0, confidence__lte=10),
                name="checkin_confidence_0_10",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "key_result", "-created_at"], name="checkin_org_kr_created"),
            models.Index(fields=["organization", "week_start"], name="checkin_org_week"),
        ]

    def __str__(self) -> str:
        return f"{self.value} on {self.key_result_id} ({self.week_start})"


class CheckinNudge(TenantModel):
    """Receipt for one weekly nudge (or reminder) to one member. The unique constraint is the idempotency key."""

    class Kind(models.TextChoices):
        NUDGE = "nudge", "Nudge"
        REMINDER = "reminder", "Reminder"

    # No single-column indexes on the two FKs: nudge_once_per_member_week (membership first) and nudge_org_week
    # (organization first) serve those lookups, and every index costs the dispatcher's bulk receipt INSERT.
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    membership = models.ForeignKey(
        "accounts.Membership", on_delete=models.CASCADE, related_name="nudges", db_index=False
    )
    week_start = models.DateField()
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.NUDGE)
    channels = models.JSONField(default=list, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    link_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["membership", "week_start", "kind"], name="nudge_once_per_member_week"),
        ]
        indexes = [models.Index(fields=["organization", "week_start"], name="nudge_org_week")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.membership_id} week {self.week_start}"


class NudgeClaim(models.Model):
    """The dispatcher's claim journal: one row per send batch of claimed members, until the send task writes
    their receipts (checkins/nudge_dispatch.py). Written in the claim's transaction, deleted in the one that writes
    the receipts.

    Not tenant data: a batch spans organizations (one SMTP connection per 500 members, whatever their org); the
    receipts it turns into carry each member's organization.
    """

    # The batch's first reserved receipt id: a published batch (its receipt ids) finds its journal row by primary key.
    id = models.BigIntegerField(primary_key=True)
    created_at = models.DateTimeField()
    swept_at = models.DateTimeField(null=True, blank=True, help_text="Last re-enqueued by the sweeper.")
    # Parallel arrays, one entry per claimed member: the receipt id reserved for them (CheckinNudge's sequence),
    # the membership and the local week of the slot that fell due.
    receipt_ids = ArrayField(models.BigIntegerField())
    membership_ids = ArrayField(models.BigIntegerField())
    week_starts = ArrayField(models.DateField())

    def __str__(self) -> str:
        return f"nudge claim {self.pk} ({len(self.receipt_ids)} members)"
