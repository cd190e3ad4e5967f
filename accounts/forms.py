from django import forms

from accounts.models import TIMEZONE_CHOICES, Membership, Role, Team, Weekday
from okrapp.widgets import FastCheckboxes, FastSelect

HOUR_CHOICES = [(h, f"{h:02d}:00") for h in range(24)]


class SignupForm(forms.Form):
    """allauth's sign-up with a name: without it, teammates see people as the start of their email address."""

    name = forms.CharField(
        max_length=150,
        required=False,
        label="Your name",
        widget=forms.TextInput(attrs={"placeholder": "Your name (shown to your team)", "autocomplete": "name"}),
    )

    def signup(self, request, user) -> None:
        user.name = self.cleaned_data.get("name", "").strip()
        user.save(update_fields=["name"])


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=120, widget=forms.TextInput(attrs={"autofocus": True}))
    timezone = forms.ChoiceField(choices=TIMEZONE_CHOICES, initial="UTC")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A fresh form starts on the browser's zone (static/js/app.js); a posted one keeps the choice it was sent.
        if not self.is_bound:
            self.fields["timezone"].widget.attrs["data-browser-timezone"] = "UTC"


class InvitationForm(forms.Form):
    email = forms.EmailField()
    role = forms.TypedChoiceField(choices=Role.choices, coerce=int, initial=Role.MEMBER)

    def __init__(self, *args, actor: Membership, **kwargs):
        super().__init__(*args, **kwargs)
        # Nobody invites above their own role.
        self.fields["role"].choices = [(value, label) for value, label in Role.choices if value <= actor.role]


class RoleForm(forms.Form):
    role = forms.TypedChoiceField(choices=Role.choices, coerce=int)


class TeamForm(forms.Form):
    name = forms.CharField(max_length=120)
    parent = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, empty_label="— none —", widget=FastSelect
    )
    lead = forms.ModelChoiceField(
        queryset=Membership.objects.none(), required=False, empty_label="— none —", widget=FastSelect
    )
    members = forms.ModelMultipleChoiceField(queryset=Membership.objects.none(), required=False, widget=FastCheckboxes)

    def __init__(self, *args, org, team: Team | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # Choices come from the caller's organization only: an id from another org is simply "not a valid choice".
        teams = Team.objects.for_org(org)
        self.fields["parent"].queryset = teams.exclude(pk=team.pk) if team else teams
        people = Membership.objects.for_org(org).filter(is_active=True).select_related("user").order_by("user__email")
        self.fields["lead"].queryset = people
        self.fields["members"].queryset = people
        self.fields["lead"].label_from_instance = self.fields["members"].label_from_instance = lambda m: (
            f"{m.user.display_name} <{m.user.email}>"
        )


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What will use it, e.g. “BI nightly import”.")


class PersonalSettingsForm(forms.Form):
    name = forms.CharField(max_length=150, required=False, label="Your name")
    timezone = forms.ChoiceField(
        choices=[("", "— organization default —"), *TIMEZONE_CHOICES], required=False, label="Time zone"
    )
    checkin_weekday = forms.TypedChoiceField(
        choices=[("", "— organization default —"), *Weekday.choices],
        coerce=int,
        empty_value=None,
        required=False,
        label="Check-in day",
    )
    checkin_hour = forms.TypedChoiceField(
        choices=[("", "— organization default —"), *HOUR_CHOICES],
        coerce=int,
        empty_value=None,
        required=False,
        label="Check-in hour (your time)",
    )
    digest_opt_out = forms.BooleanField(required=False, label="Don't send me the weekly leader digest")
