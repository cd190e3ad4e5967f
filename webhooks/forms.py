from django import forms

from webhooks.models import SUBSCRIBABLE_EVENTS


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="Endpoint URL",
        max_length=500,
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/okrapp/webhooks", "autocomplete": "off"}),
        help_text="okrapp POSTs signed JSON here. https only; redirects are not followed.",
    )
    description = forms.CharField(max_length=200, required=False, help_text="Optional: what listens here.")
    events = forms.MultipleChoiceField(
        choices=SUBSCRIBABLE_EVENTS,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event."},
    )


class EndpointEditForm(EndpointForm):
    is_active = forms.BooleanField(
        label="Active (send events to this endpoint)",
        required=False,
        help_text="Switching it back on clears its failure count.",
    )


class RotateSecretForm(forms.Form):
    KEEP_CHOICES = [("24", "Old secret valid 24 h more"), ("0", "Old secret stops now")]
    keep_old_hours = forms.TypedChoiceField(choices=KEEP_CHOICES, coerce=int, initial="24", label="Old secret")
