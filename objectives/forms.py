"""Forms for the OKR pages. Choices always come from the caller's organization (an id from another org is
simply "not a valid choice"); domain rules that span rows live in the services and come back as ValidationError."""

from decimal import Decimal

from django import forms

from accounts.models import Membership, Role, Team
from objectives.models import Cycle, KeyResult, Objective
from okrapp.widgets import FastSelect

SEARCH_MAX_LENGTH = 100  # the cycle page's search box and the API's `q`


def _people(org):
    """Who can own an objective or a key result: active members with at least the Member role (viewers cannot
    check in)."""
    return (
        Membership.objects.for_org(org)
        .filter(is_active=True, role__gte=Role.MEMBER)
        .select_related("user")
        .order_by("user__name")
    )


def _person_label(m: Membership) -> str:
    return m.user.display_name


class CycleForm(forms.Form):
    name = forms.CharField(max_length=80, widget=forms.TextInput(attrs={"placeholder": "Q3 2026"}))
    kind = forms.ChoiceField(choices=Cycle.Kind.choices, initial=Cycle.Kind.QUARTER)
    start_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    parent = forms.ModelChoiceField(
        queryset=Cycle.objects.none(),
        required=False,
        empty_label="— none —",
        label="Inside year",
        help_text="A quarter can sit inside a year cycle.",
    )

    def __init__(self, *args, org, cycle: Cycle | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        years = Cycle.objects.for_org(org).filter(kind=Cycle.Kind.YEAR)
        self.fields["parent"].queryset = years.exclude(pk=cycle.pk) if cycle else years

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end <= start:
            self.add_error("end_date", "The cycle must end after it starts.")
        parent = data.get("parent")
        if parent and data.get("kind") == Cycle.Kind.YEAR:
            self.add_error("parent", "A year cannot sit inside another cycle.")
        return data


class ObjectiveForm(forms.Form):
    title = forms.CharField(
        max_length=200, widget=forms.TextInput(attrs={"placeholder": "Make onboarding effortless for new teams"})
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    level = forms.ChoiceField(choices=Objective.Level.choices, initial=Objective.Level.TEAM)
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False, empty_label="— no team —")
    owner = forms.ModelChoiceField(queryset=Membership.objects.none(), required=False, empty_label="— unowned —")
    visibility = forms.ChoiceField(choices=Objective.Visibility.choices, initial=Objective.Visibility.ORGANIZATION)

    def __init__(self, *args, org, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.for_org(org)
        self.fields["owner"].queryset = _people(org)
        self.fields["owner"].label_from_instance = _person_label

    def clean(self):
        data = super().clean()
        if data.get("level") == Objective.Level.TEAM and not data.get("team"):
            self.add_error("team", "A team objective needs a team.")
        if data.get("visibility") == Objective.Visibility.TEAM and not data.get("team"):
            self.add_error("visibility", "Team-only visibility needs a team.")
        return data


class AlignmentForm(forms.Form):
    """One select for the primary parent: a whole objective ("o:<uuid>") or one of its key results ("k:<uuid>")."""

    parent = forms.ChoiceField(required=False, label="Aligns to", widget=FastSelect)

    def __init__(self, *args, candidates: list[Objective], **kwargs):
        super().__init__(*args, **kwargs)
        choices: list = [("", "— not aligned —")]
        for obj in candidates:
            group = [(f"o:{obj.public_id}", f"Objective: {obj.title}")]
            group += [(f"k:{kr.public_id}", f"KR: {kr.title}") for kr in obj.key_results.all()]
            choices.append((f"{obj.get_level_display()} · {obj.title}", group))
        self.fields["parent"].choices = choices

    def parent_ids(self) -> tuple[str | None, str | None]:
        """(objective public id, key result public id) of the chosen parent."""
        value = self.cleaned_data.get("parent") or ""
        if value.startswith("o:"):
            return value[2:], None
        if value.startswith("k:"):
            return None, value[2:]
        return None, None


class ContributionForm(forms.Form):
    key_result = forms.ChoiceField(label="Also contributes to", widget=FastSelect)
    weight = forms.DecimalField(min_value=Decimal("0.01"), max_value=Decimal("100"), initial=1, decimal_places=2)

    def __init__(self, *args, candidates: list[Objective], **kwargs):
        super().__init__(*args, **kwargs)
        choices: list = [("", "— choose a key result —")]
        for obj in candidates:
            krs = [(str(kr.public_id), kr.title) for kr in obj.key_results.all()]
            if krs:
                choices.append((obj.title, krs))
        self.fields["key_result"].choices = choices


class KeyResultForm(forms.Form):
    """Kind-aware: increase/decrease use baseline → target, maintain uses the band, milestone uses steps."""

    title = forms.CharField(
        max_length=200, widget=forms.TextInput(attrs={"placeholder": "Increase Day-7 activation from 34% to 52%"})
    )
    owner = forms.ModelChoiceField(queryset=Membership.objects.none(), required=False, empty_label="— unowned —")
    kind = forms.ChoiceField(choices=KeyResult.Kind.choices, initial=KeyResult.Kind.INCREASE)
    unit = forms.ChoiceField(choices=KeyResult.Unit.choices, initial=KeyResult.Unit.NUMBER)
    unit_label = forms.CharField(
        max_length=20, required=False, label="Unit label", help_text="Currency code or custom unit, e.g. EUR, NPS."
    )
    decimals = forms.IntegerField(min_value=0, max_value=4, initial=0)
    baseline = forms.DecimalField(max_digits=18, decimal_places=4, required=False, help_text="Where it stands today.")
    target = forms.DecimalField(max_digits=18, decimal_places=4, required=False)
    band_low = forms.DecimalField(max_digits=18, decimal_places=4, required=False, label="Band low")
    band_high = forms.DecimalField(max_digits=18, decimal_places=4, required=False, label="Band high")
    milestone_steps = forms.CharField(
        required=False,
        label="Steps",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "One step per line; leave empty for done / not done"}),
    )
    weight = forms.DecimalField(min_value=Decimal("0.01"), max_value=Decimal("100"), initial=1, decimal_places=2)
    rationale = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required when you change the baseline, target, kind, unit or owner of a live key result.",
    )

    KIND_FIELDS = {
        KeyResult.Kind.INCREASE: ("baseline", "target"),
        KeyResult.Kind.DECREASE: ("baseline", "target"),
        KeyResult.Kind.MAINTAIN: ("baseline", "band_low", "band_high"),
        KeyResult.Kind.MILESTONE: ("milestone_steps",),
    }

    def __init__(self, *args, org, with_rationale: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _people(org)
        self.fields["owner"].label_from_instance = _person_label
        if not with_rationale:
            del self.fields["rationale"]
        # okr.js shows only the fields of the chosen kind; without JS every field shows with its help text.
        for kind, names in self.KIND_FIELDS.items():
            for name in names:
                attrs = self.fields[name].widget.attrs
                attrs["data-kinds"] = " ".join(filter(None, [attrs.get("data-kinds"), kind]))

    def clean_milestone_steps(self) -> list[str]:
        raw = self.cleaned_data.get("milestone_steps") or ""
        return [line.strip() for line in raw.splitlines() if line.strip()]

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind in (KeyResult.Kind.INCREASE, KeyResult.Kind.DECREASE):
            for name in ("baseline", "target"):
                if data.get(name) is None and name not in self.errors:
                    self.add_error(name, "Required for this kind of key result.")
            baseline, target = data.get("baseline"), data.get("target")
            if baseline is not None and target is not None:
                if kind == KeyResult.Kind.INCREASE and target < baseline:
                    self.add_error("target", "For “increase”, the target must be above the baseline.")
                if kind == KeyResult.Kind.DECREASE and target > baseline:
                    self.add_error("target", "For “decrease”, the target must be below the baseline.")
        elif kind == KeyResult.Kind.MAINTAIN:
            if data.get("baseline") is None and "baseline" not in self.errors:
                self.add_error("baseline", "Say where it stands today, e.g. 180.")
            low, high = data.get("band_low"), data.get("band_high")
            if low is None and high is None and "band_low" not in self.errors and "band_high" not in self.errors:
                self.add_error("band_low", "Give a low bound, a high bound or both.")
            if low is not None and high is not None and low > high:
                self.add_error("band_high", "The high bound must not be below the low bound.")
        if data.get("unit") in (KeyResult.Unit.CURRENCY, KeyResult.Unit.CUSTOM) and not data.get("unit_label"):
            self.add_error("unit_label", "Name the currency or the unit.")
        return data

    def service_kwargs(self) -> dict:
        """The cleaned values in the shape the services take.

        Fields that do not apply to the chosen kind are left out (not reset), so switching the form's kind back and
        forth does not record revisions of values nobody meant to change.
        """
        data = dict(self.cleaned_data)
        data.pop("rationale", None)
        kind = data["kind"]
        if kind == KeyResult.Kind.MILESTONE:
            steps = data["milestone_steps"]
            data.update(baseline=Decimal(0), target=Decimal(len(steps) or 1))
            data.pop("band_low"), data.pop("band_high")
        elif kind == KeyResult.Kind.MAINTAIN:
            data.pop("target"), data.pop("milestone_steps")
        else:
            data.pop("band_low"), data.pop("band_high"), data.pop("milestone_steps")
        if data.get("unit") not in (KeyResult.Unit.CURRENCY, KeyResult.Unit.CUSTOM):
            data["unit_label"] = ""
        return data

    @classmethod
    def initial_for(cls, kr: KeyResult) -> dict:
        return {
            "title": kr.title,
            "owner": kr.owner,
            "kind": kr.kind,
            "unit": kr.unit,
            "unit_label": kr.unit_label,
            "decimals": kr.decimals,
            "baseline": plain_decimal(kr.baseline),
            "target": plain_decimal(kr.target),
            "band_low": plain_decimal(kr.band_low),
            "band_high": plain_decimal(kr.band_high),
            "milestone_steps": "\n".join(kr.milestone_steps or []),
            "weight": plain_decimal(kr.weight),
        }


def plain_decimal(value: Decimal | None) -> str | None:
    """A stored decimal as a person would type it: no trailing zeros and never an exponent (Decimal("1.2E+6") is
    what normalize() alone gives for 1,200,000, and editing that text in a field changes the number)."""
    return None if value is None else format(value.normalize(), "f")


class ObjectiveFilterForm(forms.Form):
    """GET filters of the cycle page. Unknown values are ignored (a stale bookmark must not 500)."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Objective or key result", "autocomplete": "off"}
        ),
    )
    team = forms.ChoiceField(required=False, widget=FastSelect)
    owner = forms.ChoiceField(required=False, widget=FastSelect)
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *Objective.Status.choices], widget=FastSelect
    )
    signal = forms.ChoiceField(required=False, widget=FastSelect)

    def __init__(self, *args, teams, people, signals, **kwargs):
        """`teams` and `people`: (public id, label) pairs."""
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", "All teams"), *[(str(pk), name) for pk, name in teams]]
        self.fields["owner"].choices = [("", "Anyone"), *[(str(pk), name) for pk, name in people]]
        self.fields["signal"].choices = [("", "Any signal"), *signals]

    def values(self) -> dict:
        self.is_valid()  # an invalid field is simply dropped; the valid ones still filter
        return {name: self.cleaned_data.get(name) or None for name in self.fields}
