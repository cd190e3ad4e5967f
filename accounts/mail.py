"""Dev email backend: prints like the console backend and keeps a copy for the /dev/outbox/ page."""

from django.core.mail.backends.console import EmailBackend as ConsoleBackend

from accounts.models import OutboxMessage


class OutboxEmailBackend(ConsoleBackend):
    def send_messages(self, email_messages):
        count = super().send_messages(email_messages)
        for message in email_messages:
            html = next((c for c, mime in getattr(message, "alternatives", []) if mime == "text/html"), "")
            OutboxMessage.objects.create(
                to=", ".join(message.to), subject=message.subject[:300], body=message.body, html=html
            )
        return count
