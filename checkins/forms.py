"""Forms for the My week page: one small form per row, prefixed with the row's public id.

Values are taken as text and checked by checkins.services, so the page and the API give the same messages.
"""

from decimal import Decimal

from django import forms

from checkins.services import COMMENT_MAX_LENGTH
from initiatives.models import Initiative


class KrCheckinForm(forms.Form):
    value = forms.CharField(max_length=40, required=False, label="New value")
    confidence = forms.CharField(max_length=4, required=False, label="Confidence (0–10)")
    comment = forms.CharField(max_length=COMMENT_MAX_LENGTH, required=False, label="Comment")

    def __init__(self, *args, row=None, **kwargs):
        super().__init__(*args, **kwargs)
        kr = row.kr
        if not self.is_bound:
            self.initial.setdefault("value", _plain(kr.current, kr.decimals))
            self.initial.setdefault("confidence", "" if kr.confidence is None else kr.confidence)
        # Labels are visible and the row is a <fieldset> whose legend is the KR title, so screen readers say both.
        self.fields["value"].widget.attrs.update(
            {"inputmode": "decimal", "autocomplete": "off", "class": "checkin-value"}
        )
        if row.shape.is_milestone:
            steps = row.shape.steps
            self.fields["value"].label = "Steps done" if steps else "Done? (1 = yes, 0 = no)"
            self.fields["value"].widget = forms.NumberInput(
                attrs={"min": 0, "max": steps or 1, "step": 1, "class": "checkin-value"}
            )
        self.fields["confidence"].widget = forms.NumberInput(
            attrs={"min": 0, "max": 10, "step": 1, "class": "checkin-confidence"}
        )
        self.fields["comment"].widget.attrs.update(
            {"class": "checkin-comment", "placeholder": "What changed, what's next?", "autocomplete": "off"}
        )


class InitiativeCheckinForm(forms.Form):
    status = forms.ChoiceField(choices=Initiative.Status.choices, label="Status")
    progress = forms.CharField(max_length=4, label="Progress (%)")

    def __init__(self, *args, initiative=None, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("status", initiative.status)
            self.initial.setdefault("progress", initiative.progress)
        self.fields["progress"].widget = forms.NumberInput(attrs={"min": 0, "max": 100, "step": 1})


def _plain(value, decimals: int) -> str:
    """A value as an input box shows it: no thousands separators, at least the KR's decimals, never rounded."""
    number = Decimal(value)
    exponent = number.normalize().as_tuple().exponent
    places = max(min(int(decimals or 0), 4), -exponent if isinstance(exponent, int) and exponent < 0 else 0)
    return f"{number:.{places}f}"
