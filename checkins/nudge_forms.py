"""Forms of the nudge pages: the one-step check-in behind a nudge link, and the org's check-in settings."""

from __future__ import annotations

from django import forms

from accounts.forms import HOUR_CHOICES
from accounts.models import TIMEZONE_CHOICES, Weekday
from checkins.slack import slack_webhook_validate
from objectives.progress import format_value


class LinkCheckinForm(forms.Form):
    """One row per KR of the link: value (blank = leave this KR for now), confidence 0-10, comment.

    Values are checked by the check-in service (it knows KR kinds); its row errors are put back on these fields.
    """

    def __init__(self, *args, key_results, **kwargs):
        super().__init__(*args, **kwargs)
        self.key_results = key_results
        for kr in key_results:
            prefix = str(kr.public_id)
            self.fields[f"{prefix}-value"] = forms.CharField(
                required=False, max_length=40, label=f"New value for {kr.title}", initial=_plain(kr)
            )
            self.fields[f"{prefix}-confidence"] = forms.TypedChoiceField(
                choices=[("", "—"), *((i, str(i)) for i in range(11))],
                coerce=int,
                empty_value=None,
                required=False,
                label=f"Confidence for {kr.title} (0-10)",
                initial=kr.confidence,
            )
            self.fields[f"{prefix}-comment"] = forms.CharField(
                required=False,
                max_length=4000,
                label=f"Comment on {kr.title}",
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def rows(self):
        """(kr, bound value/confidence/comment fields, display current) for the template."""
        for kr in self.key_results:
            prefix = str(kr.public_id)
            yield {
                "kr": kr,
                "value": self[f"{prefix}-value"],
                "confidence": self[f"{prefix}-confidence"],
                "comment": self[f"{prefix}-comment"],
                "current": format_value(value=kr.current, unit=kr.unit, unit_label=kr.unit_label, decimals=kr.decimals),
                "target": format_value(value=kr.target, unit=kr.unit, unit_label=kr.unit_label, decimals=kr.decimals),
            }

    def filled_rows(self) -> list[dict]:
        """Rows the person filled in (a blank value skips that KR)."""
        rows = []
        for kr in self.key_results:
            prefix = str(kr.public_id)
            value = (self.cleaned_data.get(f"{prefix}-value") or "").strip()
            if value:
                rows.append(
                    {
                        "key_result": kr,
                        "value": value,
                        "confidence": self.cleaned_data.get(f"{prefix}-confidence"),
                        "comment": self.cleaned_data.get(f"{prefix}-comment") or "",
                    }
                )
        return rows

    def add_row_errors(self, row_errors: dict[str, dict[str, list[str]]]) -> None:
        for public_id, errors in row_errors.items():
            for name, messages in errors.items():
                field = f"{public_id}-{name}" if f"{public_id}-{name}" in self.fields else f"{public_id}-value"
                for message in messages:
                    self.add_error(field, message)


def _plain(kr) -> str:
    """The KR's current value as a plain number to pre-fill the input (no unit, no thousands separator)."""
    decimals = max(0, min(int(kr.decimals or 0), 4))
    return f"{kr.current:.{decimals}f}"


class CheckinSettingsForm(forms.Form):
    """The org's check-in settings. The stored Slack URL is a secret and is never rendered back: the field starts
    blank, blank keeps the current URL, and `remove_slack` (shown only while one is set) disconnects it."""

    timezone = forms.ChoiceField(choices=TIMEZONE_CHOICES, label="Default time zone")
    checkin_weekday = forms.TypedChoiceField(choices=Weekday.choices, coerce=int, label="Check-in day")
    checkin_hour = forms.TypedChoiceField(choices=HOUR_CHOICES, coerce=int, label="Check-in hour (local time)")
    reminders_enabled = forms.BooleanField(required=False, label="Send one reminder two days later if not checked in")
    slack_webhook_url = forms.CharField(
        required=False,
        max_length=300,
        label="Slack incoming webhook URL",
        help_text="Optional. Nudges and the digest are also posted there. https://hooks.slack.com/services/…",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    remove_slack = forms.BooleanField(required=False, label="Disconnect Slack (stop posting to the current webhook)")
    digest_weekday = forms.TypedChoiceField(choices=Weekday.choices, coerce=int, label="Leader digest day")
    digest_hour = forms.TypedChoiceField(choices=HOUR_CHOICES, coerce=int, label="Leader digest hour (local time)")

    def __init__(self, *args, slack_hint: str = "", **kwargs):
        """slack_hint: the masked current URL (checkins.slack.slack_webhook_mask), "" when Slack is not set."""
        super().__init__(*args, **kwargs)
        self.slack_connected = bool(slack_hint)
        if self.slack_connected:
            field = self.fields["slack_webhook_url"]
            field.label = "New Slack incoming webhook URL"
            field.help_text = f"Slack is connected ({slack_hint}). Leave blank to keep it; paste a URL to replace it."
        else:
            del self.fields["remove_slack"]

    def clean_slack_webhook_url(self) -> str:
        try:
            return slack_webhook_validate(self.cleaned_data.get("slack_webhook_url", ""))
        except forms.ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["slack_webhook_url"]) from None

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("remove_slack") and cleaned.get("slack_webhook_url"):
            self.add_error("remove_slack", "Either paste a new URL or disconnect Slack, not both.")
        return cleaned

    def settings_changes(self) -> dict:
        """cleaned_data as keyword arguments for organization_update_checkin_settings (Slack left out = keep it)."""
        changes = dict(self.cleaned_data)
        remove = changes.pop("remove_slack", False)
        if remove:
            changes["slack_webhook_url"] = ""
        elif not changes.get("slack_webhook_url"):
            changes.pop("slack_webhook_url", None)
        return changes


class TeamSlackForm(forms.Form):
    team = forms.ModelChoiceField(queryset=None, label="Team", empty_label="— choose a team —")
    slack_webhook_url = forms.CharField(
        required=False, max_length=300, label="Team's Slack webhook URL", help_text="Blank removes it."
    )

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams

    def clean_slack_webhook_url(self) -> str:
        try:
            return slack_webhook_validate(self.cleaned_data.get("slack_webhook_url", ""))
        except forms.ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["slack_webhook_url"]) from None
