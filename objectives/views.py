"""OKR pages: cycles, the cycle board, objectives, key results and the team view (server-rendered + htmx).

Views stay thin: parse input with a form, check who may do it (objectives.permissions), call one service, render
what a selector returns. Invalid htmx posts answer 422 with the re-rendered fragment (base.html swaps 422s).
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from accounts import selectors as account_selectors
from accounts.models import Membership, Role, Team
from checkins.selectors import kr_chart_context
from objectives import export, selectors, services
from objectives.board import BoardFilters
from objectives.forms import (
    AlignmentForm,
    ContributionForm,
    CycleForm,
    KeyResultForm,
    ObjectiveFilterForm,
    ObjectiveForm,
)
from objectives.models import Cycle, KeyResult, Objective
from objectives.permissions import can_create, can_edit_key_result, can_edit_objective
from okrapp.forms import add_validation_errors
from okrapp.tenancy import org_member_required


def _deny_unless(allowed: bool, reason: str) -> None:
    if not allowed:
        raise PermissionDenied(reason)


def _htmx_redirect(request, url: str):
    """Follow a successful write: htmx navigates with HX-Redirect, plain forms get a 302."""
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _retarget(response, target: str, swap: str = "outerHTML"):
    """A form swaps itself on errors; on success the server tells htmx to swap a bigger region instead."""
    response["HX-Retarget"] = target
    response["HX-Reswap"] = swap
    return response


# --- Cycles -------------------------------------------------------------------------------------------------------
def _tree_order(cycles) -> list:
    """Years (and standalone cycles) newest first, each followed by the quarters inside it."""
    cycles = list(cycles)
    ids = {c.pk for c in cycles}
    children: dict[int, list] = {}
    for c in cycles:
        if c.parent_id in ids:
            children.setdefault(c.parent_id, []).append(c)
    ordered = []
    for c in cycles:
        if c.parent_id not in ids:
            ordered.append(c)
            ordered.extend(sorted(children.get(c.pk, []), key=lambda q: q.start_date, reverse=True))
    return ordered


@org_member_required
def okrs_home(request):
    """The "OKRs" link: the current cycle's board, or the cycle list when there is none yet."""
    cycle = selectors.cycle_current(org=request.organization)
    if cycle is None:
        return redirect("objectives:cycle_list", request.organization.slug)
    return redirect("objectives:cycle_detail", request.organization.slug, cycle.public_id)


@org_member_required
def cycle_list(request):
    org = request.organization
    context = {
        "cycles": _tree_order(selectors.cycle_list_with_counts(org=org, membership=request.membership)),
        "current": selectors.cycle_current(org=org),
        "can_manage": request.membership.role >= Role.ADMIN,
    }
    return render(request, "objectives/cycle_list.html", context)


@org_member_required(min_role=Role.ADMIN)
def cycle_manage(request):
    org = request.organization
    form = CycleForm(request.POST or None, org=org)
    if request.method == "POST" and form.is_valid():
        try:
            cycle = services.cycle_create(org=org, actor=request.membership, **form.cleaned_data)
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, f"Cycle {cycle.name} created. Set it active when you are ready.")
            return redirect("objectives:cycle_manage", org.slug)
    status = 422 if form.errors else 200
    context = {"form": form, "cycles": _tree_order(selectors.cycle_list(org=org))}
    return render(request, "objectives/cycle_manage.html", context, status=status)


@org_member_required(min_role=Role.ADMIN)
def cycle_edit(request, cycle_id):
    org = request.organization
    cycle = selectors.cycle_get(org=org, public_id=cycle_id)
    initial = {f: getattr(cycle, f) for f in ("name", "kind", "start_date", "end_date", "parent")}
    form = CycleForm(request.POST or None, org=org, cycle=cycle, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.cycle_update(org=org, actor=request.membership, cycle=cycle, **form.cleaned_data)
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, f"Cycle {cycle.name} saved.")
            return redirect("objectives:cycle_manage", org.slug)
    status = 422 if form.errors else 200
    return render(request, "objectives/cycle_edit.html", {"form": form, "cycle": cycle}, status=status)


@require_POST
@org_member_required(min_role=Role.ADMIN)
def cycle_activate(request, cycle_id):
    org = request.organization
    cycle = selectors.cycle_get(org=org, public_id=cycle_id)
    services.cycle_activate(org=org, actor=request.membership, cycle=cycle)
    messages.success(request, f"{cycle.name} is now the active {cycle.get_kind_display().lower()}.")
    return redirect("objectives:cycle_manage", org.slug)


def _board_filters(request, org):
    """Parse the cycle page's GET filters into objects of this org (unknown ids are ignored, never a 500).

    The choices are read as (public id, label) pairs: the page shows every team and member in its selects, and
    loading them as model instances (with their users) cost more than judging the cycle's objectives."""
    teams = list(Team.objects.for_org(org).order_by("name").values_list("public_id", "name"))
    people = [
        (pk, name or email.split("@")[0])
        for pk, name, email in Membership.objects.for_org(org)
        .filter(is_active=True)
        .order_by("user__email")
        .values_list("public_id", "user__name", "user__email")
    ]
    form = ObjectiveFilterForm(
        request.GET or None, teams=teams, people=people, signals=list(selectors.health.LABELS.items())
    )
    values = form.values() if request.GET else {}
    team = Team.objects.for_org(org).filter(public_id=values["team"]).first() if values.get("team") else None
    owner = (
        Membership.objects.for_org(org).filter(public_id=values["owner"], is_active=True).first()
        if values.get("owner")
        else None
    )
    return form, BoardFilters(
        team=team, owner=owner, status=values.get("status"), signal=values.get("signal"), q=values.get("q")
    )


def _cycle_tabs(org, cycle, limit: int = 6) -> list:
    """The open cycles to switch between (a few, newest first), always including the one on screen."""
    tabs = list(selectors.cycle_list(org=org).exclude(status=Cycle.Status.CLOSED)[:limit])
    if cycle.pk not in {c.pk for c in tabs}:
        tabs.append(cycle)
    return sorted(tabs, key=lambda c: (c.kind != Cycle.Kind.QUARTER, -c.start_date.toordinal()))


def _group_url(org, cycle, params: dict, key: str, offset: int = 0, base: str | None = None) -> str:
    base = base or reverse("objectives:cycle_board_group", args=[org.slug, cycle.public_id])
    return f"{base}?{urlencode({**params, 'group': key, **({'offset': offset} if offset else {})})}"


def _link_groups(org, cycle, board: dict, filters: BoardFilters) -> None:
    """Give each group of the board its URLs: htmx load (collapsed), next page (expanded), and a no-JS link.
    Each carries the active filters, so a lazily loaded group is filtered the same way as the page offering it."""
    params = filters.params()
    page = reverse("objectives:cycle_detail", args=[org.slug, cycle.public_id])
    base = reverse("objectives:cycle_board_group", args=[org.slug, cycle.public_id])
    for level in board["groups"]:
        for bucket in level["teams"]:
            bucket["load_url"] = _group_url(org, cycle, params, bucket["key"], base=base)
            bucket["more_url"] = _group_url(org, cycle, params, bucket["key"], bucket["next_offset"], base=base)
            bucket["open_url"] = f"{page}?{urlencode({**params, 'open': bucket['key']})}"


@org_member_required
def cycle_detail(request, cycle_id):
    org, membership = request.organization, request.membership
    cycle = selectors.cycle_get(org=org, public_id=cycle_id)
    filter_form, filters = _board_filters(request, org)
    board = selectors.cycle_board(
        org=org, membership=membership, cycle=cycle, filters=filters, open_group=request.GET.get("open")
    )
    _link_groups(org, cycle, board, filters)
    export_url = reverse("objectives:cycle_export", args=[org.slug, cycle.public_id])
    board["export_url"] = f"{export_url}?{urlencode(filters.params())}".rstrip("?")
    context = {
        "board": board,
        "cycle": cycle,
        "filter_form": filter_form,
        "filtered": bool(filters),
        "cycles": _cycle_tabs(org, cycle),
        "can_create": can_create(membership) and cycle.status != Cycle.Status.CLOSED,
    }
    if request.htmx and request.htmx.target == "board":
        return render(request, "objectives/_board.html", context)
    return render(request, "objectives/cycle_detail.html", context)


@org_member_required
def cycle_export(request, cycle_id):
    """The cycle board as a CSV file, with the filters and search the board had when the link was clicked."""
    org, membership = request.organization, request.membership
    cycle = selectors.cycle_get(org=org, public_id=cycle_id)
    _, filters = _board_filters(request, org)
    objectives = selectors.cycle_export(org=org, membership=membership, cycle=cycle, filters=filters)
    response = HttpResponse(export.to_csv(objectives), content_type="text/csv; charset=utf-8")
    name = slugify(f"{org.slug} {cycle.name} okrs") or "okrs"
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@org_member_required
def cycle_board_group(request, cycle_id):
    """One page of one group of the cycle board (htmx: a collapsed group opening, or "show more")."""
    org, membership = request.organization, request.membership
    cycle = selectors.cycle_get(org=org, public_id=cycle_id)
    _, filters = _board_filters(request, org)
    try:
        offset = int(request.GET.get("offset") or 0)
    except ValueError:
        return HttpResponseBadRequest("offset must be a whole number.")
    if offset < 0:
        return HttpResponseBadRequest("offset must be a whole number.")
    key = request.GET.get("group", "")
    page = selectors.cycle_board_group(
        org=org, membership=membership, cycle=cycle, key=key, offset=offset, filters=filters
    )
    if page is None:
        raise Http404("No such group on this board.")
    page["more_url"] = _group_url(org, cycle, filters.params(), key, page["next_offset"])
    return render(request, "objectives/_board_rows.html", {"page": page})


# --- Objectives ---------------------------------------------------------------------------------------------------
def _objective_form(request, org, data=None, **kwargs):
    form = ObjectiveForm(data, org=org, **kwargs)
    if request.membership.role < Role.ADMIN:
        # A member drafts objectives they own (and may leave them unowned for an admin to assign).
        form.fields["owner"].queryset = form.fields["owner"].queryset.filter(pk=request.membership.pk)
    return form


def _new_objective_initial(org, membership) -> dict:
    """Defaults of the new-objective form that can be submitted as they are: a team objective of the creator's team
    when they are in exactly one, else a company objective for an admin and a personal one for anyone else (the
    form's own default, team level with no team, was always an error)."""
    teams = list(Team.objects.for_org(org).filter(members=membership).order_by()[:2])
    if len(teams) == 1:
        level, team = Objective.Level.TEAM, teams[0]
    else:
        level, team = (Objective.Level.COMPANY if membership.role >= Role.ADMIN else Objective.Level.PERSONAL), None
    return {"owner": membership, "level": level, "team": team}


@org_member_required(min_role=Role.MEMBER)
def objective_create(request, cycle_id):
    org, membership = request.organization, request.membership
    cycle = selectors.cycle_get(org=org, public_id=cycle_id)
    _deny_unless(can_create(membership), "Viewers cannot create objectives.")
    initial = _new_objective_initial(org, membership) if request.method != "POST" else {"owner": membership}
    form = _objective_form(request, org, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            objective = services.objective_create(org=org, actor=membership, cycle=cycle, **form.cleaned_data)
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, "Objective drafted. Add 2–4 key results, then publish it.")
            return _htmx_redirect(request, reverse("objectives:objective_detail", args=[org.slug, objective.public_id]))
    status = 422 if form.errors else 200
    template = "objectives/_objective_create_form.html" if request.htmx else "objectives/objective_create.html"
    return render(request, template, {"form": form, "cycle": cycle}, status=status)


def _objective_context(request, objective, **extra):
    org, membership = request.organization, request.membership
    detail = selectors.objective_detail(org=org, membership=membership, objective=objective)
    can_edit = detail["can_edit"]
    context = {"d": detail, "o": detail["objective"], "can_edit": can_edit, **extra}
    if can_edit and "align_form" not in extra:
        if request.GET.get("edit") == "alignment":  # without JavaScript: the pickers in the page
            context.update(_alignment_forms(request, objective))
        else:  # the pickers (up to 300 objectives with their KRs) load when their <details> opens
            context["lazy_alignment_forms"] = True
    context["can_add_initiative"] = can_create(membership)
    context["kr_editable"] = {
        kr["pk"]: can_edit or (membership.role >= Role.MEMBER and kr["owner_pk"] == membership.pk)
        for kr in detail["key_results"]
    }
    return context


@org_member_required
def objective_detail(request, objective_id):
    org = request.organization
    objective = selectors.objective_get(org=org, membership=request.membership, public_id=objective_id)
    return render(request, "objectives/objective_detail.html", _objective_context(request, objective))


@org_member_required
def objective_header(request, objective_id):
    """The header fragment (used by "Cancel" of the in-place edit form)."""
    org = request.organization
    objective = selectors.objective_get(org=org, membership=request.membership, public_id=objective_id)
    return render(request, "objectives/_objective_header.html", _objective_context(request, objective))


@org_member_required(min_role=Role.MEMBER)
def objective_edit(request, objective_id):
    org, membership = request.organization, request.membership
    objective = selectors.objective_get(org=org, membership=membership, public_id=objective_id)
    _deny_unless(can_edit_objective(membership, objective), "Only the objective's owner or an admin can edit it.")
    initial = {f: getattr(objective, f) for f in ("title", "description", "level", "team", "owner", "visibility")}
    form = _objective_form(request, org, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.objective_update(org=org, actor=membership, objective=objective, **form.cleaned_data)
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            if not request.htmx:
                messages.success(request, "Objective saved.")
                return redirect("objectives:objective_detail", org.slug, objective.public_id)
            objective = selectors.objective_get(org=org, membership=membership, public_id=objective_id)
            context = _objective_context(request, objective)
            return render(request, "objectives/_objective_header_response.html", context)
    status = 422 if form.errors else 200
    context = {"form": form, "objective": objective}
    if request.htmx:
        return render(request, "objectives/_objective_edit_form.html", context, status=status)
    return render(request, "objectives/objective_edit.html", context, status=status)


@require_POST
@org_member_required(min_role=Role.MEMBER)
def objective_publish(request, objective_id):
    """Run the ownership and quality checks; on failure list exactly what blocks publishing."""
    org, membership = request.organization, request.membership
    objective = selectors.objective_get(org=org, membership=membership, public_id=objective_id)
    _deny_unless(can_edit_objective(membership, objective), "Only the objective's owner or an admin can publish it.")
    try:
        services.objective_publish(org=org, actor=membership, objective=objective)
    except ValidationError as exc:
        context = _objective_context(request, objective, publish_errors=exc.messages)
        template = "objectives/_publish_panel.html" if request.htmx else "objectives/objective_detail.html"
        return render(request, template, context, status=422)
    messages.success(request, f"“{objective.title}” is live. Owners will be nudged to check in weekly.")
    return _htmx_redirect(request, reverse("objectives:objective_detail", args=[org.slug, objective.public_id]))


@require_POST
@org_member_required(min_role=Role.MEMBER)
def objective_archive(request, objective_id):
    org, membership = request.organization, request.membership
    objective = selectors.objective_get(org=org, membership=membership, public_id=objective_id)
    _deny_unless(can_edit_objective(membership, objective), "Only the objective's owner or an admin can archive it.")
    services.objective_archive(org=org, actor=membership, objective=objective)
    messages.info(request, f"“{objective.title}” archived.")
    return redirect("objectives:objective_detail", org.slug, objective.public_id)


@require_POST
@org_member_required(min_role=Role.MEMBER)
def objective_delete(request, objective_id):
    org, membership = request.organization, request.membership
    objective = selectors.objective_get(org=org, membership=membership, public_id=objective_id)
    _deny_unless(can_edit_objective(membership, objective), "Only the objective's owner or an admin can delete it.")
    cycle_public_id = objective.cycle.public_id
    services.objective_delete(org=org, actor=membership, objective=objective)
    messages.info(request, f"“{objective.title}” deleted.")
    return redirect("objectives:cycle_detail", org.slug, cycle_public_id)


def _alignment_forms(request, objective) -> dict:
    org, membership = request.organization, request.membership
    candidates = selectors.alignment_candidates(org=org, membership=membership, objective=objective)
    current = (
        f"k:{objective.parent_key_result.public_id}"
        if objective.parent_key_result_id
        else (f"o:{objective.parent_objective.public_id}" if objective.parent_objective_id else "")
    )
    return {
        "align_form": AlignmentForm(candidates=candidates, initial={"parent": current}),
        "contribution_form": ContributionForm(candidates=candidates),
    }


@org_member_required
def objective_alignment_form(request, objective_id):
    """One alignment picker as a fragment (?form=align|contribution), loaded when its <details> opens."""
    org, membership = request.organization, request.membership
    objective = selectors.objective_get(org=org, membership=membership, public_id=objective_id)
    _deny_unless(can_edit_objective(membership, objective), "Only the objective's owner or an admin can align it.")
    template = {"align": "objectives/_align_form.html", "contribution": "objectives/_contribution_form.html"}.get(
        request.GET.get("form", "")
    )
    if template is None:
        raise Http404("No such form.")
    context = {"o": {"id": objective.public_id}, **_alignment_forms(request, objective)}
    return render(request, template, context)


def _alignment_response(request, objective, status=200, **forms):
    context = _objective_context(request, objective, **forms)
    if request.htmx:
        return render(request, "objectives/_alignment.html", context, status=status)
    if status == 200:
        return redirect("objectives:objective_detail", request.organization.slug, objective.public_id)
    return render(request, "objectives/objective_detail.html", context, status=status)


@require_POST
@org_member_required(min_role=Role.MEMBER)
def objective_align(request, objective_id):
    org, membership = request.organization, request.membership
    objective = selectors.objective_get(org=org, membership=membership, public_id=objective_id)
    _deny_unless(can_edit_objective(membership, objective), "Only the objective's owner or an admin can align it.")
    candidates = selectors.alignment_candidates(org=org, membership=membership, objective=objective)
    form = AlignmentForm(request.POST, candidates=candidates)
    if form.is_valid():
        objective_pid, kr_pid = form.parent_ids()
        parent_objective = next((o for o in candidates if str(o.public_id) == objective_pid), None)
        parent_kr = next((kr for o in candidates for kr in o.key_results.all() if str(kr.public_id) == kr_pid), None)
        try:
            services.objective_set_alignment(
                org=org,
                actor=membership,
                objective=objective,
                parent_objective=parent_objective,
                parent_key_result=parent_kr,
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            objective = selectors.objective_get(org=org, membership=membership, public_id=objective_id)
            return _alignment_response(request, objective)
    return _alignment_response(
        request, objective, status=422, align_form=form, contribution_form=ContributionForm(candidates=candidates)
    )


@require_POST
@org_member_required(min_role=Role.MEMBER)
def contribution_add(request, objective_id):
    org, membership = request.organization, request.membership
    objective = selectors.objective_get(org=org, membership=membership, public_id=objective_id)
    _deny_unless(can_edit_objective(membership, objective), "Only the objective's owner or an admin can align it.")
    candidates = selectors.alignment_candidates(org=org, membership=membership, objective=objective)
    form = ContributionForm(request.POST, candidates=candidates)
    if form.is_valid():
        kr_pid = form.cleaned_data["key_result"]
        key_result = next(kr for o in candidates for kr in o.key_results.all() if str(kr.public_id) == kr_pid)
        try:
            services.contribution_add(
                org=org,
                actor=membership,
                objective=objective,
                key_result=key_result,
                weight=form.cleaned_data["weight"],
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            return _alignment_response(request, objective)
    current = (
        f"k:{objective.parent_key_result.public_id}"
        if objective.parent_key_result_id
        else (f"o:{objective.parent_objective.public_id}" if objective.parent_objective_id else "")
    )
    align = AlignmentForm(candidates=candidates, initial={"parent": current})
    return _alignment_response(request, objective, status=422, align_form=align, contribution_form=form)


@require_POST
@org_member_required(min_role=Role.MEMBER)
def contribution_remove(request, objective_id, contribution_id):
    org, membership = request.organization, request.membership
    objective = selectors.objective_get(org=org, membership=membership, public_id=objective_id)
    _deny_unless(can_edit_objective(membership, objective), "Only the objective's owner or an admin can align it.")
    contribution = selectors.contribution_get(org=org, membership=membership, public_id=contribution_id)
    if contribution.objective_id != objective.pk:
        raise PermissionDenied("That contribution belongs to another objective.")
    services.contribution_remove(org=org, actor=membership, contribution=contribution)
    return _alignment_response(request, objective)


# --- Key results --------------------------------------------------------------------------------------------------
def _kr_row_response(request, objective, key_result_pk, status=200):
    """The KR's row on the objective page, plus the publish panel and header refreshed out of band."""
    context = _objective_context(request, objective)
    context["kr"] = next(kr for kr in context["d"]["key_results"] if kr["pk"] == key_result_pk)
    context["oob"] = True
    return render(request, "objectives/_kr_row_response.html", context, status=status)


@org_member_required(min_role=Role.MEMBER)
def kr_create(request, objective_id):
    org, membership = request.organization, request.membership
    objective = selectors.objective_get(org=org, membership=membership, public_id=objective_id)
    _deny_unless(
        can_edit_objective(membership, objective), "Only the objective's owner or an admin can add key results."
    )
    form = KeyResultForm(request.POST or None, org=org)
    if request.method == "POST" and form.is_valid():
        try:
            services.key_result_create(org=org, actor=membership, objective=objective, **form.service_kwargs())
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            if not request.htmx:
                messages.success(request, "Key result added.")
                return redirect("objectives:objective_detail", org.slug, objective.public_id)
            context = _objective_context(request, objective, oob=True)
            response = render(request, "objectives/_kr_section_response.html", context)
            return _retarget(response, "#kr-section")
    status = 422 if form.errors else 200
    context = {"form": form, "objective": objective}
    if request.htmx:
        return render(request, "objectives/_kr_create_form.html", context, status=status)
    return render(request, "objectives/kr_form_page.html", context, status=status)


@org_member_required(min_role=Role.MEMBER)
def kr_edit(request, key_result_id):
    """Edit in place. On a live KR, changing baseline/target/kind/unit/owner asks for a rationale (kept)."""
    org, membership = request.organization, request.membership
    key_result = selectors.key_result_get(org=org, membership=membership, public_id=key_result_id)
    _deny_unless(can_edit_key_result(membership, key_result), "Only the KR's owner, the objective's owner or an admin.")
    origin = "kr" if request.GET.get("from") == "kr" or request.POST.get("origin") == "kr" else "objective"
    live = key_result.status == KeyResult.Status.ACTIVE
    form = KeyResultForm(
        request.POST or None, org=org, with_rationale=live, initial=KeyResultForm.initial_for(key_result)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.key_result_update(
                org=org,
                actor=membership,
                key_result=key_result,
                rationale=form.cleaned_data.get("rationale", ""),
                **form.service_kwargs(),
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            if origin == "kr" or not request.htmx:
                messages.success(request, "Key result saved.")
                url_name = "objectives:kr_detail" if origin == "kr" else "objectives:objective_detail"
                target = key_result.public_id if origin == "kr" else key_result.objective.public_id
                return _htmx_redirect(request, reverse(url_name, args=[org.slug, target]))
            return _kr_row_response(request, key_result.objective, key_result.pk)
    status = 422 if form.errors else 200
    context = {"form": form, "key_result": key_result, "origin": origin}
    if request.htmx:
        return render(request, "objectives/_kr_edit_form.html", context, status=status)
    return render(request, "objectives/kr_form_page.html", context, status=status)


@org_member_required
def kr_row(request, key_result_id):
    """The KR's row on the objective page (used by "Cancel" of the in-place edit form)."""
    org, membership = request.organization, request.membership
    key_result = selectors.key_result_get(org=org, membership=membership, public_id=key_result_id)
    return _kr_row_response(request, key_result.objective, key_result.pk)


@require_POST
@org_member_required(min_role=Role.MEMBER)
def kr_delete(request, key_result_id):
    org, membership = request.organization, request.membership
    key_result = selectors.key_result_get(org=org, membership=membership, public_id=key_result_id)
    _deny_unless(
        can_edit_objective(membership, key_result.objective),
        "Only the objective's owner or an admin can delete key results.",
    )
    objective = key_result.objective
    services.key_result_delete(org=org, actor=membership, key_result=key_result)
    messages.info(request, f"Key result “{key_result.title}” deleted.")
    return _htmx_redirect(request, reverse("objectives:objective_detail", args=[org.slug, objective.public_id]))


@org_member_required
def kr_detail(request, key_result_id):
    org, membership = request.organization, request.membership
    key_result = selectors.key_result_get(org=org, membership=membership, public_id=key_result_id)
    detail = selectors.key_result_detail(org=org, membership=membership, key_result=key_result)
    kr = detail["key_result"]
    context = {
        "d": detail,
        "kr": kr,
        "objective": key_result.objective,
        "can_edit": detail["can_edit"],
        "kr_editable": {kr["pk"]: detail["can_edit"]},
        "can_add_initiative": can_create(membership),
        "chart": kr_chart_context(org=org, key_result=key_result),
    }
    return render(request, "objectives/kr_detail.html", context)


# --- Teams --------------------------------------------------------------------------------------------------------
@org_member_required
def team_okrs(request, team_id):
    org, membership = request.organization, request.membership
    team = account_selectors.team_get(org=org, public_id=team_id)
    board = selectors.team_board(org=org, membership=membership, team=team)
    context = {"board": board, "team": team, "cycle": board["cycle"], "can_create": False, "filtered": False}
    return render(request, "objectives/team_okrs.html", context)
