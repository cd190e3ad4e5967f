"""Pages for check-ins: "My week" (whole form or row by row with htmx) and a KR's history chart."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import InvalidOperation

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Role
from checkins import selectors, services
from checkins.forms import (
    InitiativeCheckinForm,
    KrCheckinForm,
    MyWeekRows,
    RowState,
    initiative_prefix,
    kr_prefix,
)
from checkins.selectors import InitiativeFacts, MyWeekKr
from okrapp.forms import add_validation_errors
from okrapp.numbers import parse_number
from okrapp.tenancy import org_member_required


@dataclass
class KrRow:
    row: MyWeekKr
    form: KrCheckinForm

    @property
    def kr(self):
        return self.row.kr


@dataclass
class InitiativeRow:
    initiative: InitiativeFacts
    form: InitiativeCheckinForm


# --- My week ------------------------------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@org_member_required
def my_week(request):
    """Every active KR and open initiative I own, in one form. "Save all" writes every row or none.

    The rows are drawn in Python from the columns they show (checkins.forms.MyWeekRows, selectors.my_week); a GET builds
    no Django form. A POST parses every row with its form, loads only the rows it writes, and an invalid page is drawn
    again from what was posted, with the errors inline.
    """
    org, me = request.organization, request.membership
    week = selectors.my_week(org=org, membership=me)
    draw = MyWeekRows(org.slug, today=week.today)
    status = 200
    if request.method == "POST":
        if me.role < Role.MEMBER:
            raise PermissionDenied("Viewers cannot check in.")
        kr_rows = [KrRow(row, KrCheckinForm(request.POST, prefix=kr_prefix(row.kr))) for row in week.key_results]
        initiative_rows = [
            InitiativeRow(i, InitiativeCheckinForm(request.POST, prefix=initiative_prefix(i))) for i in week.initiatives
        ]
        saved = _save_all(request, kr_rows, initiative_rows)
        if saved is not None:
            return redirect("checkins:my_week", org.slug)
        status = 422
        kr_html = [draw.kr_row(r.row, RowState.of_form(r.form)) for r in kr_rows]
        initiative_html = [draw.initiative_row(r.initiative, RowState.of_form(r.form)) for r in initiative_rows]
    else:
        kr_html = [draw.kr_row(row) for row in week.key_results]
        initiative_html = [draw.initiative_row(initiative) for initiative in week.initiatives]
    context = {
        "week": week,
        "read_only": me.role < Role.MEMBER,  # a viewer who still owns rows (demoted): shown, not editable
        "summary": week.summary,
        "kr_rows": mark_safe("".join(kr_html)),  # noqa: S308 - each row is escaped by MyWeekRows
        "initiative_rows": mark_safe("".join(initiative_html)),  # noqa: S308 - idem
    }
    return render(request, "checkins/my_week.html", context, status=status)


def _kr_row_changed(row: KrRow) -> bool:
    """Save all checks in rows not yet checked in this week, and rows whose values the person changed."""
    data = row.form.cleaned_data
    if not row.row.checked_in or data["comment"].strip():
        return True
    try:
        if parse_number(data["value"]) != row.kr.current:
            return True
    except InvalidOperation:
        return True  # let the service explain what is wrong with it
    confidence = data["confidence"].strip()
    return bool(confidence) and confidence != str(row.kr.confidence)


def _initiative_row_changed(row: InitiativeRow) -> bool:
    data, initiative = row.form.cleaned_data, row.initiative
    return data["status"] != initiative.status or data["progress"].strip() != str(initiative.progress)


def _save_all(request, kr_rows: list[KrRow], initiative_rows: list[InitiativeRow]):
    """Validate every row, then write the changed ones in one transaction; None (and inline errors) if any is bad."""
    bad = sum(not r.form.is_valid() for r in [*kr_rows, *initiative_rows])
    if bad:
        # The same words as services.BatchValidationError (rows the service rejects).
        messages.error(
            request, f"{bad} row{'s' if bad != 1 else ''} need{'s' if bad == 1 else ''} fixing. Nothing was saved."
        )
        return None
    changed_krs = [r for r in kr_rows if _kr_row_changed(r)]
    changed_initiatives = [r for r in initiative_rows if _initiative_row_changed(r)]
    key_results, initiatives = selectors.my_week_models(
        org=request.organization,
        key_result_ids=[str(r.kr.public_id) for r in changed_krs],
        initiative_ids=[str(r.initiative.public_id) for r in changed_initiatives],
    )
    # A row whose KR or initiative was deleted since the page was read is skipped (nothing left to write to).
    checkin_rows = [
        services.CheckinRow(
            key_result=key_results[str(r.kr.public_id)],
            value=r.form.cleaned_data["value"],
            confidence=r.form.cleaned_data["confidence"],
            comment=r.form.cleaned_data["comment"],
        )
        for r in changed_krs
        if str(r.kr.public_id) in key_results
    ]
    update_rows = [
        services.InitiativeRow(
            initiative=initiatives[str(r.initiative.public_id)],
            status=r.form.cleaned_data["status"],
            progress=r.form.cleaned_data["progress"],
        )
        for r in changed_initiatives
        if str(r.initiative.public_id) in initiatives
    ]
    try:
        result = services.checkin_submit_many(
            org=request.organization, actor=request.membership, checkins=checkin_rows, initiatives=update_rows
        )
    except services.BatchValidationError as exc:
        forms = {str(r.kr.public_id): r.form for r in kr_rows}
        forms.update({str(r.initiative.public_id): r.form for r in initiative_rows})
        for public_id, errors in exc.row_errors.items():
            add_validation_errors(forms[public_id], ValidationError(errors))
        messages.error(request, exc.messages[0])
        return None
    if result.checkins or update_rows:
        parts = []
        if result.checkins:
            parts.append(f"{len(result.checkins)} key result{'s' if len(result.checkins) != 1 else ''}")
        if update_rows:
            parts.append(f"{len(update_rows)} initiative{'s' if len(update_rows) != 1 else ''}")
        messages.success(request, f"Checked in: {' and '.join(parts)}. Thank you!")
    else:
        messages.info(request, "Nothing new to save: everything was already checked in this week.")
    return result


def _row_response(request, row_html: str, *, status: int) -> HttpResponse:
    """The row fragment, plus the page's progress summary swapped out-of-band so the count stays right."""
    summary = selectors.my_week_summary(org=request.organization, membership=request.membership)
    html = row_html + render_to_string(
        "checkins/_my_week_summary.html", {"summary": summary, "oob": True}, request=request
    )
    return HttpResponse(html, status=status)


@require_POST
@org_member_required(min_role=Role.MEMBER)
def my_week_kr_save(request, key_result_id):
    """Check in one KR row (htmx). Invalid → 422 with the row's inline errors; the rest of the page is untouched."""
    org, me = request.organization, request.membership
    row = selectors.my_week_kr(org=org, membership=me, key_result_id=key_result_id)
    form = KrCheckinForm(request.POST, prefix=kr_prefix(row.kr))
    saved = False
    if form.is_valid():
        try:
            services.checkin_submit(
                org=org,
                actor=me,
                key_result=row.kr,
                value=form.cleaned_data["value"],
                confidence=form.cleaned_data["confidence"],
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            saved = True
    if not request.htmx:
        if saved:
            messages.success(request, f"Checked in: {row.kr.title}.")
        else:
            messages.error(request, f"{row.kr.title}: " + " ".join(_form_messages(form)))
        return redirect("checkins:my_week", org.slug)
    draw = MyWeekRows(org.slug)
    if saved:
        row.checked_in = True
        return _row_response(request, draw.kr_row(row, just_saved=True), status=200)  # shows the new current value
    return _row_response(request, draw.kr_row(row, RowState.of_form(form)), status=422)


@require_POST
@org_member_required(min_role=Role.MEMBER)
def my_week_initiative_save(request, initiative_id):
    """Update one initiative row (htmx): status and progress."""
    org, me = request.organization, request.membership
    initiative = selectors.initiative_get(org=org, initiative_id=initiative_id)
    form = InitiativeCheckinForm(request.POST, prefix=initiative_prefix(initiative))
    saved = False
    if form.is_valid():
        try:
            services.initiative_checkin(
                org=org,
                actor=me,
                initiative=initiative,
                status=form.cleaned_data["status"],
                progress=form.cleaned_data["progress"],
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            saved = True
    if not request.htmx:
        if saved:
            messages.success(request, f"Updated: {initiative.title}.")
        else:
            messages.error(request, f"{initiative.title}: " + " ".join(_form_messages(form)))
        return redirect("checkins:my_week", org.slug)
    draw = MyWeekRows(org.slug, today=services.local_today(membership=me))
    if saved:
        return _row_response(request, draw.initiative_row(initiative, just_saved=True), status=200)
    return _row_response(request, draw.initiative_row(initiative, RowState.of_form(form)), status=422)


def _form_messages(form) -> list[str]:
    return [str(message) for errors in form.errors.values() for message in errors]


# --- KR history ---------------------------------------------------------------------------------------------------
@org_member_required
def kr_history(request, key_result_id):
    """The KR's value and confidence charts, forecast and check-in timeline."""
    org = request.organization
    kr = selectors.key_result_get(org=org, key_result_id=key_result_id)
    if not selectors.key_result_visible(membership=request.membership, key_result=kr):
        raise Http404("No such key result.")
    chart = selectors.kr_chart_context(org=org, key_result=kr)
    # The link goes to My week, which lists the member's own KRs only.
    can_check_in = request.membership.role >= Role.MEMBER and kr.owner_id == request.membership.pk
    return render(request, "checkins/kr_history.html", {"kr": kr, "chart": chart, "can_check_in": can_check_in})
