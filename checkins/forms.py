"""Forms for the My week page: one small form per row, prefixed with the row's public id, and the rows' HTML.

Values are taken as text and checked by checkins.services, so the page and the API give the same messages. The
forms only parse a POST; the rows are drawn in Python (`MyWeekRows`), one escaped string per row: Django renders
every widget through a template (~1 ms each) and a heavy owner's page has ~700 of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from html import escape as html_escape

from django import forms
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.safestring import SafeString, mark_safe

from checkins.selectors import InitiativeFacts, MyWeekKr
from checkins.services import COMMENT_MAX_LENGTH
from initiatives.models import Initiative

VALUE_MAX_LENGTH = 40


class _SharedField:
    """The row forms never change a field per instance, and a heavy owner's "Save all" builds ~270 of them: they
    share their fields instead of deep-copying them for every row (Django's default; ~40 µs a row)."""

    def __deepcopy__(self, memo):
        return self


class _CharField(_SharedField, forms.CharField):
    pass


class _ChoiceField(_SharedField, forms.ChoiceField):
    pass


class KrCheckinForm(forms.Form):
    value = _CharField(max_length=VALUE_MAX_LENGTH, required=False, label="New value")
    confidence = _CharField(max_length=4, required=False, label="Confidence (0–10)")
    comment = _CharField(max_length=COMMENT_MAX_LENGTH, required=False, label="Comment")


class InitiativeCheckinForm(forms.Form):
    status = _ChoiceField(choices=Initiative.Status.choices, label="Status")
    progress = _CharField(max_length=4, label="Progress (%)")


def kr_prefix(kr) -> str:
    return f"kr-{kr.public_id}"


def initiative_prefix(initiative) -> str:
    return f"in-{initiative.public_id}"


def _plain(value, decimals: int) -> str:
    """A value as an input box shows it: no thousands separators, at least the KR's decimals, never rounded."""
    number = Decimal(value)
    exponent = number.normalize().as_tuple().exponent
    places = max(min(int(decimals or 0), 4), -exponent if isinstance(exponent, int) and exponent < 0 else 0)
    return f"{number:.{places}f}"


# --- Drawing the rows ---------------------------------------------------------------------------------------------
def escape(text) -> str:
    """What django.utils.html.escape does (the same five characters), without its lazy-text wrapper: a heavy owner's
    page escapes ~2,000 strings."""
    return html_escape(str(text))


_PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"
_STATUS_CHOICES = [(str(value), escape(label)) for value, label in Initiative.Status.choices]
_COMMENT_PLACEHOLDER = escape("What changed, what's next?")


class RowState:
    """What one row's inputs show and the errors beside them: the current values, or what was posted."""

    __slots__ = ("values", "errors")

    def __init__(self, values: Mapping[str, str], errors: Mapping[str, list] | None = None):
        self.values = values
        self.errors = errors or {}

    @classmethod
    def of_form(cls, form: forms.Form) -> RowState:
        """A bound form: the text exactly as typed (nothing is lost), and its errors (after is_valid())."""
        data = form.data
        values = {name: data.get(form.add_prefix(name)) or "" for name in form.fields}
        return cls(values, form.errors)


def kr_initial(row: MyWeekKr) -> RowState:
    kr = row.kr
    confidence = "" if kr.confidence is None else str(kr.confidence)
    return RowState({"value": _plain(kr.current, kr.decimals), "confidence": confidence, "comment": ""})


def initiative_initial(initiative: InitiativeFacts | Initiative) -> RowState:
    return RowState({"status": initiative.status, "progress": str(initiative.progress)})


def _aria(field_id: str, errors) -> str:
    """The attributes that tie an invalid control to its error list."""
    return f' aria-invalid="true" aria-describedby="{field_id}_errors"' if errors else ""


def _field(field_id: str, label: str, control: str, errors, unit: str = "") -> str:
    """A labelled control (already drawn, with _aria() in it) followed by its unit and its inline errors. `label` is
    our own text (no markup); everything else that reaches the page is escaped."""
    unit_html = f'<span class="unit" aria-hidden="true">{escape(unit)}</span>' if unit else ""
    html = f'<label for="{field_id}">{label}</label><span class="input-unit">{control}{unit_html}</span>'
    if not errors:
        return f'<div class="field">{html}</div>'
    items = "".join(f"<li>{escape(e)}</li>" for e in errors)
    error_list = f'<ul class="errorlist" id="{field_id}_errors" role="alert" data-testid="field-error">{items}</ul>'
    return f'<div class="field field-error">{html}{error_list}</div>'


def _row_errors(errors) -> str:
    """Errors about the whole row (e.g. "still a draft"), above its inputs."""
    row_errors = errors.get("__all__")
    if not row_errors:
        return ""
    text = " ".join(escape(e) for e in row_errors)
    return f'<div class="flash flash-error" role="alert" data-testid="row-error">{text}</div>'


class MyWeekRows:
    """Draws My week's rows for one organization (the URLs are reversed once, not once per row)."""

    def __init__(self, org_slug: str, today: date | None = None):
        """`today`: the member's date, for the overdue chip of initiatives (none without it)."""
        self._today = today

        def url(name: str) -> tuple[str, str]:
            head, _, tail = reverse(name, args=[org_slug, _PLACEHOLDER_ID]).partition(_PLACEHOLDER_ID)
            return escape(head), escape(tail)

        self._kr_save = url("checkins:my_week_kr_save")
        self._kr_history = url("checkins:kr_history")
        self._initiative_save = url("checkins:my_week_initiative_save")

    def kr_row(self, row: MyWeekKr, state: RowState | None = None, *, just_saved: bool = False) -> SafeString:
        """One KR's <fieldset>: title, objective, current value and progress, checked-in chip, the three inputs, a
        row Save button (htmx) and the history link. Every interpolated text is escaped here."""
        kr = row.kr
        state = state or kr_initial(row)
        values, errors = state.values, state.errors
        uid = str(kr.public_id)
        prefix = f"kr-{uid}"
        title = escape(kr.title)
        pct = row.progress_pct
        current = escape(row.current_display)
        css = "checkin-row card"
        if row.checked_in:
            css += " is-checked-in"
            chip = '<span class="chip chip-green" data-testid="checked-in">checked in ✓</span>'
        else:
            chip = '<span class="chip chip-grey" data-testid="not-checked-in">not yet this week</span>'
        if errors:
            css += " has-errors"

        value_id = f"id_{prefix}-value"
        value = escape(values.get("value", ""))
        shape = row.shape
        if shape.is_milestone:
            steps = shape.steps
            label = "Steps done" if steps else "Done? (1 = yes, 0 = no)"
            value_control = (
                f'<input type="number" name="{prefix}-value" value="{value}" min="0" max="{steps or 1}" step="1"'
                f' class="checkin-value"{_aria(value_id, errors.get("value"))} id="{value_id}">'
            )
        else:
            label = "New value"
            value_control = (
                f'<input type="text" name="{prefix}-value" value="{value}" maxlength="{VALUE_MAX_LENGTH}"'
                f' inputmode="decimal" autocomplete="off" class="checkin-value"{_aria(value_id, errors.get("value"))}'
                f' id="{value_id}">'
            )
        confidence_id = f"id_{prefix}-confidence"
        confidence_control = (
            f'<input type="number" name="{prefix}-confidence" value="{escape(values.get("confidence", ""))}"'
            f' min="0" max="10" step="1" class="checkin-confidence"{_aria(confidence_id, errors.get("confidence"))}'
            f' id="{confidence_id}">'
        )
        comment_id = f"id_{prefix}-comment"
        comment_control = (
            f'<input type="text" name="{prefix}-comment" value="{escape(values.get("comment", ""))}"'
            f' maxlength="{COMMENT_MAX_LENGTH}" class="checkin-comment" placeholder="{_COMMENT_PLACEHOLDER}"'
            f' autocomplete="off"{_aria(comment_id, errors.get("comment"))} id="{comment_id}">'
        )
        comment_field = _field(comment_id, "Comment", comment_control, errors.get("comment"))
        save_head, save_tail = self._kr_save
        history_head, history_tail = self._kr_history
        saved = (
            f'<p class="checkin-saved" role="status" data-testid="row-saved">Saved — {current}.</p>'
            if just_saved
            else ""
        )
        return mark_safe(  # noqa: S308 - every text above is escaped
            f'<fieldset class="{css}" id="kr-row-{uid}" data-testid="kr-row" data-kr="{uid}">'
            f"<legend>{title}</legend>\n"
            f'<div class="checkin-meta"><span class="muted">{escape(row.objective_title)}</span>\n'
            f'<span>Now <strong data-testid="current-value">{current}</strong></span>\n'
            f'<span class="progress" role="img" title="{pct}% of the way" aria-label="{pct}% progress">'
            f'<span style="width:{pct}%"></span></span>\n{chip}</div>\n'
            f"{_row_errors(errors)}"
            f'<div class="checkin-fields">\n'
            f"{_field(value_id, label, value_control, errors.get('value'), row.unit)}\n"
            f"{_field(confidence_id, 'Confidence (0–10)', confidence_control, errors.get('confidence'), '/10')}\n"
            f'<div class="checkin-comment-field">{comment_field}</div>\n'
            f'<button type="button" class="btn-secondary btn-small checkin-save" data-row-save'
            f' hx-post="{save_head}{uid}{save_tail}" hx-target="#kr-row-{uid}" hx-swap="outerHTML">Save</button>\n'
            f'<a class="small checkin-history-link" href="{history_head}{uid}{history_tail}">History'
            f'<span class="sr-only"> of {title}</span></a>\n'
            f"</div>{saved}</fieldset>\n"
        )

    def initiative_row(
        self, initiative: InitiativeFacts | Initiative, state: RowState | None = None, *, just_saved: bool = False
    ) -> SafeString:
        """One initiative's <fieldset>: title, its KR and due date, status and progress, a row Save button. A model
        must carry `key_result_title` (selectors.initiative_get annotates it)."""
        state = state or initiative_initial(initiative)
        values, errors = state.values, state.errors
        uid = str(initiative.public_id)
        prefix = f"in-{uid}"
        css = "checkin-row card has-errors" if errors else "checkin-row card"
        due = f'<span class="muted">Due {date_format(initiative.due_date, "j M")}</span>' if initiative.due_date else ""
        overdue = self._today and initiative.due_date and initiative.due_date < self._today
        if overdue and initiative.status not in ("done", "cancelled"):  # health.initiative_signals' overdue
            was_due = date_format(initiative.due_date, "d M Y")
            due += (
                f' <span class="chip chip-amber" data-signal="overdue" data-testid="overdue"'
                f' title="Was due on {was_due} and is not done.">Overdue</span>'
            )
        status = values.get("status", "")
        options = "".join(
            f'<option value="{value}"{" selected" if value == status else ""}>{label}</option>'
            for value, label in _STATUS_CHOICES
        )
        status_id = f"id_{prefix}-status"
        status_aria = _aria(status_id, errors.get("status"))
        status_control = f'<select name="{prefix}-status"{status_aria} id="{status_id}">{options}</select>'
        progress_id = f"id_{prefix}-progress"
        progress_control = (
            f'<input type="number" name="{prefix}-progress" value="{escape(values.get("progress", ""))}"'
            f' min="0" max="100" step="1" required{_aria(progress_id, errors.get("progress"))} id="{progress_id}">'
        )
        kr_title = escape(initiative.key_result_title)
        save_head, save_tail = self._initiative_save
        saved = '<p class="checkin-saved" role="status" data-testid="row-saved">Saved ✓</p>' if just_saved else ""
        return mark_safe(  # noqa: S308 - every text above is escaped
            f'<fieldset class="{css}" id="initiative-row-{uid}" data-testid="initiative-row">'
            f"<legend>{escape(initiative.title)}</legend>\n"
            f'<div class="checkin-meta"><span class="muted">For: {kr_title}</span>{due}</div>\n'
            f"{_row_errors(errors)}"
            f'<div class="checkin-fields">\n'
            f"{_field(status_id, 'Status', status_control, errors.get('status'))}\n"
            f"{_field(progress_id, 'Progress (%)', progress_control, errors.get('progress'), '%')}\n"
            f'<button type="button" class="btn-secondary btn-small checkin-save" data-row-save'
            f' hx-post="{save_head}{uid}{save_tail}" hx-target="#initiative-row-{uid}"'
            f' hx-swap="outerHTML">Save</button>\n'
            f"</div>{saved}</fieldset>\n"
        )
