"""A deploy check: the SSRF guard of outbound webhooks must be on in production."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_webhooks_private_hosts(app_configs, **kwargs):
    if getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_HOSTS", False) and not settings.DEBUG:
        return [
            Warning(
                "WEBHOOKS_ALLOW_PRIVATE_HOSTS is true: organization admins can make the server post to loopback and "
                "private addresses (server-side request forgery). Leave it false outside development and tests.",
                id="webhooks.W001",
            )
        ]
    return []
