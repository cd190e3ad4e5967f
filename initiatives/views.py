"""Initiative fragments for the objective and KR pages (htmx): add, edit in place, delete.

After a write the KR's whole initiative list is re-rendered (its signals — no work behind it, watermelon, focus —
depend on the initiatives) and the KR's signal chips are refreshed out of band.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import Role
from initiatives import selectors, services
from initiatives.forms import InitiativeForm
from objectives import selectors as okr_selectors
from objectives.permissions import can_create, can_edit_initiative
from okrapp.forms import add_validation_errors
from okrapp.tenancy import org_member_required


def _list_response(request, key_result, status=200):
    """The KR's initiative list (+ its signal chips out of band), retargeted over the list on the page."""
    org, membership = request.organization, request.membership
    detail = okr_selectors.key_result_detail(org=org, membership=membership, key_result=key_result)
    kr = detail["key_result"]
    context = {
        "kr": kr,
        "initiatives": kr["initiatives"],
        "kr_editable": {kr["pk"]: detail["can_edit"]},
        "can_add_initiative": can_create(membership),
        # The KR page lists initiatives flat; the objective page nests them under their KR.
        "flat": "/key-results/" in request.headers.get("HX-Current-URL", ""),
    }
    response = render(request, "initiatives/_initiative_list_response.html", context, status=status)
    response["HX-Retarget"] = f"#initiatives-{kr['id']}"
    response["HX-Reswap"] = "outerHTML"
    return response


def _done(request, key_result, message: str):
    if request.htmx:
        return _list_response(request, key_result)
    messages.success(request, message)
    return redirect("objectives:kr_detail", request.organization.slug, key_result.public_id)


@org_member_required(min_role=Role.MEMBER)
def initiative_create(request, key_result_id):
    org, membership = request.organization, request.membership
    key_result = okr_selectors.key_result_get(org=org, membership=membership, public_id=key_result_id)
    if not can_create(membership):
        raise PermissionDenied("Viewers cannot add initiatives.")
    form = InitiativeForm(request.POST or None, org=org, initial={"owner": membership})
    if request.method == "POST" and form.is_valid():
        try:
            services.initiative_create(org=org, actor=membership, key_result=key_result, **form.cleaned_data)
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            return _done(request, key_result, "Initiative added.")
    status = 422 if form.errors else 200
    context = {"form": form, "key_result": key_result, "initiative": None}
    template = "initiatives/_initiative_form.html" if request.htmx else "initiatives/initiative_form_page.html"
    return render(request, template, context, status=status)


def _get_editable(request, initiative_id):
    org, membership = request.organization, request.membership
    initiative = selectors.initiative_get(org=org, membership=membership, public_id=initiative_id)
    if not can_edit_initiative(membership, initiative):
        raise PermissionDenied("Only the initiative's owner, the KR's owner, the objective's owner or an admin.")
    return initiative


@org_member_required(min_role=Role.MEMBER)
def initiative_edit(request, initiative_id):
    org, membership = request.organization, request.membership
    initiative = _get_editable(request, initiative_id)
    key_result = initiative.key_result
    form = InitiativeForm(request.POST or None, org=org, initial=InitiativeForm.initial_for(initiative))
    if request.method == "POST" and form.is_valid():
        try:
            services.initiative_update(org=org, actor=membership, initiative=initiative, **form.cleaned_data)
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            return _done(request, key_result, "Initiative saved.")
    status = 422 if form.errors else 200
    context = {"form": form, "key_result": key_result, "initiative": initiative}
    template = "initiatives/_initiative_form.html" if request.htmx else "initiatives/initiative_form_page.html"
    return render(request, template, context, status=status)


@org_member_required
def initiative_row(request, initiative_id):
    """The KR's initiative list again (used by "Cancel" of the in-place edit form)."""
    org, membership = request.organization, request.membership
    initiative = selectors.initiative_get(org=org, membership=membership, public_id=initiative_id)
    return _list_response(request, initiative.key_result)


@require_POST
@org_member_required(min_role=Role.MEMBER)
def initiative_delete(request, initiative_id):
    org, membership = request.organization, request.membership
    initiative = _get_editable(request, initiative_id)
    key_result = initiative.key_result
    services.initiative_delete(org=org, actor=membership, initiative=initiative)
    return _done(request, key_result, f"Initiative “{initiative.title}” deleted.")
