from django import forms

from accounts.models import Membership, Role
from initiatives.models import Initiative


class InitiativeForm(forms.Form):
    title = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"placeholder": "Guided setup checklist"}))
    hypothesis = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "We believe … will move this key result because …"}),
        help_text="Why this should move the key result.",
    )
    owner = forms.ModelChoiceField(queryset=Membership.objects.none(), required=False, empty_label="— unowned —")
    status = forms.ChoiceField(choices=Initiative.Status.choices, initial=Initiative.Status.NOT_STARTED)
    due_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    progress = forms.IntegerField(min_value=0, max_value=100, initial=0, label="Progress (%)")

    def __init__(self, *args, org, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = (
            Membership.objects.for_org(org)
            .filter(is_active=True, role__gte=Role.MEMBER)  # viewers cannot update an initiative
            .select_related("user")
            .order_by("user__name")
        )
        self.fields["owner"].label_from_instance = lambda m: m.user.display_name

    def clean(self):
        data = super().clean()
        if data.get("status") == Initiative.Status.DONE and data.get("progress") is not None and data["progress"] < 100:
            # Done means done; keep the numbers consistent instead of refusing.
            data["progress"] = 100
        return data

    @classmethod
    def initial_for(cls, initiative: Initiative) -> dict:
        return {
            "title": initiative.title,
            "hypothesis": initiative.hypothesis,
            "owner": initiative.owner,
            "status": initiative.status,
            "due_date": initiative.due_date,
            "progress": initiative.progress,
        }
