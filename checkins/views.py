"""Pages for check-ins: "My week" (whole form or row by row with htmx) and a KR's history chart."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Role
from checkins import selectors, services
from checkins.forms import InitiativeCheckinForm, KrCheckinForm
from checkins.selectors import MyWeekKr
from initiatives.models import Initiative
from okrapp.forms import add_validation_errors
from okrapp.tenancy import org_member_required


@dataclass
class KrRow:
    row: MyWeekKr
    form: KrCheckinForm
    just_saved: bool = False

    @property
    def kr(self):
        return self.row.kr


@dataclass
class InitiativeRow:
    initiative: Initiative
    form: InitiativeCheckinForm
    just_saved: bool = False


def _kr_prefix(kr) -> str:
    return f"kr-{kr.public_id}"


def _initiative_prefix(initiative) -> str:
    return f"in-{initiative.public_id}"


def _kr_row(row: MyWeekKr, data=None, *, just_saved: bool = False) -> KrRow:
    return KrRow(row=row, form=KrCheckinForm(data, prefix=_kr_prefix(row.kr), row=row), just_saved=just_saved)


def _initiative_row(initiative: Initiative, data=None, *, just_saved: bool = False) -> InitiativeRow:
    form = InitiativeCheckinForm(data, prefix=_initiative_prefix(initiative), initiative=initiative)
    return InitiativeRow(initiative=initiative, form=form, just_saved=just_saved)


# --- My week ------------------------------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@org_member_required
def my_week(request):
    """Every active KR and open initiative I own, in one form. "Save all" writes every row or none."""
    org, me = request.organization, request.membership
    week = selectors.my_week(org=org, membership=me)
    data = request.POST if request.method == "POST" else None
    kr_rows = [_kr_row(row, data) for row in week.key_results]
    initiative_rows = [_initiative_row(initiative, data) for initiative in week.initiatives]
    status = 200
    if request.method == "POST":
        if me.role < Role.MEMBER:
            raise PermissionDenied("Viewers cannot check in.")
        saved = _save_all(request, kr_rows, initiative_rows)
        if saved is not None:
            return redirect("checkins:my_week", org.slug)
        status = 422
    context = {"week": week, "kr_rows": kr_rows, "initiative_rows": initiative_rows}
    return render(request, "checkins/my_week.html", context, status=status)


def _kr_row_changed(row: KrRow) -> bool:
    """Save all checks in rows not yet checked in this week, and rows whose values the person changed."""
    data = row.form.cleaned_data
    if not row.row.checked_in or data["comment"].strip():
        return True
    try:
        if Decimal(data["value"].strip().replace(",", "")) != row.kr.current:
            return True
    except InvalidOperation:
        return True  # let the service explain what is wrong with it
    confidence = data["confidence"].strip()
    return bool(confidence) and confidence != str(row.kr.confidence)


def _initiative_row_changed(row: InitiativeRow) -> bool:
    data, initiative = row.form.cleaned_data, row.initiative
    return data["status"] != initiative.status or data["progress"].strip() != str(initiative.progress)


def _save_all(request, kr_rows: list[KrRow], initiative_rows: list[InitiativeRow]):
    """Validate every row, then write all of them in one transaction; None (and inline errors) if any row is bad."""
    forms_ok = all([r.form.is_valid() for r in kr_rows] + [r.form.is_valid() for r in initiative_rows])
    if not forms_ok:
        return None
    checkin_rows = [
        services.CheckinRow(
            key_result=r.kr,
            value=r.form.cleaned_data["value"],
            confidence=r.form.cleaned_data["confidence"],
            comment=r.form.cleaned_data["comment"],
        )
        for r in kr_rows
        if _kr_row_changed(r)
    ]
    update_rows = [
        services.InitiativeRow(
            initiative=r.initiative, status=r.form.cleaned_data["status"], progress=r.form.cleaned_data["progress"]
        )
        for r in initiative_rows
        if _initiative_row_changed(r)
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


def _row_response(request, template: str, context: dict, *, status: int) -> HttpResponse:
    """The row fragment, plus the page's progress summary swapped out-of-band so the count stays right."""
    html = render_to_string(template, context, request=request)
    week = selectors.my_week(org=request.organization, membership=request.membership)
    html += render_to_string("checkins/_my_week_summary.html", {"week": week, "oob": True}, request=request)
    return HttpResponse(html, status=status)


@require_POST
@org_member_required(min_role=Role.MEMBER)
def my_week_kr_save(request, key_result_id):
    """Check in one KR row (htmx). Invalid → 422 with the row's inline errors; the rest of the page is untouched."""
    org, me = request.organization, request.membership
    row = selectors.my_week_kr(org=org, membership=me, key_result_id=key_result_id)
    form = KrCheckinForm(request.POST, prefix=_kr_prefix(row.kr), row=row)
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
    if saved:
        row.checked_in = True
        context = {"r": _kr_row(row, just_saved=True)}  # a fresh form showing the new current value
        return _row_response(request, "checkins/_kr_row.html", context, status=200)
    return _row_response(request, "checkins/_kr_row.html", {"r": KrRow(row=row, form=form)}, status=422)


@require_POST
@org_member_required(min_role=Role.MEMBER)
def my_week_initiative_save(request, initiative_id):
    """Update one initiative row (htmx): status and progress."""
    org, me = request.organization, request.membership
    initiative = selectors.initiative_get(org=org, initiative_id=initiative_id)
    form = InitiativeCheckinForm(request.POST, prefix=_initiative_prefix(initiative), initiative=initiative)
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
    if saved:
        context = {"r": _initiative_row(initiative, just_saved=True)}
        return _row_response(request, "checkins/_initiative_row.html", context, status=200)
    row = InitiativeRow(initiative=initiative, form=form)
    return _row_response(request, "checkins/_initiative_row.html", {"r": row}, status=422)


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
