"""Outbound webhooks: endpoints an organization registers, and one delivery row per (endpoint, event).

The delivery row is the outbox: it is written in the same transaction as the change it reports, and the sender
(webhooks.tasks) works from it, so a commit always yields a delivery and a rollback never does.
"""

from django.contrib.postgres.fields import ArrayField
from django.db import models

from okrapp.crypto import EncryptedTextField
from okrapp.db import TenantModel


class Event(models.TextChoices):
    CHECKIN_CREATED = "checkin.created", "Check-in created"
    KEY_RESULT_STATUS_CHANGED = "key_result.status_changed", "Key result status changed"
    OBJECTIVE_STATUS_CHANGED = "objective.status_changed", "Objective status changed"
    INITIATIVE_STATUS_CHANGED = "initiative.status_changed", "Initiative status changed"
    PING = "ping", "Ping (test)"


# What an endpoint can subscribe to; `ping` is only ever sent by the "send test ping" button.
SUBSCRIBABLE_EVENTS = [(value, label) for value, label in Event.choices if value != Event.PING]


class WebhookEndpoint(TenantModel):
    """A URL of the organization's that receives signed JSON events."""

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = ArrayField(models.CharField(max_length=40, choices=SUBSCRIBABLE_EVENTS))
    is_active = models.BooleanField(default=True)
    # "whsec_…", generated server-side; encrypted at rest because we need it back to sign (a hash would not do).
    secret = EncryptedTextField()
    # After a rotation the old secret may keep signing (a second v1=) until it expires, so receivers can switch over.
    previous_secret = EncryptedTextField(blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    # Deliveries that ended failed in a row (any success resets it); at WEBHOOKS_DISABLE_AFTER it is switched off.
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    # When the org's admins were emailed about the automatic switch-off at `disabled_at` (webhooks.notifications);
    # claimed with a compare-and-set before sending, so a redelivered task does not email twice.
    disabled_notified_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["organization", "is_active"], name="webhook_endpoint_org_active")]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(TenantModel):
    """One event for one endpoint, with the state of its attempts. Its public_id is the X-Okrapp-Delivery header."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(help_text="The event's id (the body's `id`), the same for every endpoint.")
    event_type = models.CharField(max_length=40, choices=Event.choices)
    payload = models.JSONField(help_text="The JSON body: {id, type, created_at, organization, data}.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Due time of the next attempt (null once delivered or failed).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # When a send task was last put on the queue for it; the sweeper re-enqueues a due delivery whose task was lost.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # A worker holds the delivery until then while it sends; a worker killed mid-send lets it expire.
    leased_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    last_response = models.CharField(max_length=500, blank=True, help_text="The start of the last response body.")
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_delivery_once")]
        indexes = [
            models.Index(fields=["organization", "endpoint", "-created_at"], name="webhook_delivery_org_endpoint"),
            # The sweeper's scan: only pending rows, by due time.
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["created_at"], name="webhook_delivery_created"),  # retention prune
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.status})"
