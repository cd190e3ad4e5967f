import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "okrapp.settings")

app = Celery("okrapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Per-member timing lives in our tables; beat only wakes the dispatchers (STYLE.md c.7). Run exactly one beat.
app.conf.beat_schedule = {
    "checkins-dispatch-due-nudges": {
        "task": "checkins.dispatch_due_nudges",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 4 * 60},
    },
    # Hourly: each org whose local digest day/hour it is gets its weekly leader digest (compare-and-set, once).
    "checkins-send-digests": {
        "task": "checkins.send_digests",
        "schedule": crontab(minute=7),
        "options": {"expires": 50 * 60},
    },
    # Outbound webhooks: due retries and deliveries whose send task was lost (at-least-once; see webhooks.delivery).
    "webhooks-sweep-deliveries": {
        "task": "webhooks.sweep_deliveries",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
    "webhooks-prune-deliveries": {
        "task": "webhooks.prune_deliveries",
        "schedule": crontab(minute=23, hour=3),
        "options": {"expires": 60 * 60},
    },
}
