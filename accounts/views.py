"""Pages for organizations, people, teams, invitations, API tokens, audit and personal settings."""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.adapters import PENDING_INVITATION_SESSION_KEY
from accounts.audit import client_ip
from accounts.forms import (
    ApiTokenForm,
    InvitationForm,
    OrganizationForm,
    PersonalSettingsForm,
    RoleForm,
    TeamForm,
)
from accounts.models import Role
from okrapp.forms import add_validation_errors
from okrapp.tenancy import LAST_ORG_SESSION_KEY, org_member_required


@login_required
def organization_create(request):
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.organization_create(
                user=request.user,
                name=form.cleaned_data["name"],
                timezone_name=form.cleaned_data["timezone"],
                ip=client_ip(request),
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, f"{org.name} is ready. Invite your team next.")
            return redirect("accounts:dashboard", org.slug)
    first = not selectors.user_organizations(user=request.user).exists()
    return render(request, "accounts/organization_create.html", {"form": form, "first": first})


def invitation_accept(request, token: str):
    """Open an invitation link: logged out → sign up or log in first; then one click joins the org."""
    invitation = services.invitation_get_by_token(token=token)
    problem = services.invitation_problem(invitation)
    if problem:
        request.session.pop(PENDING_INVITATION_SESSION_KEY, None)
        return render(request, "accounts/invitation_invalid.html", {"problem": problem}, status=404)
    if not request.user.is_authenticated:
        request.session[PENDING_INVITATION_SESSION_KEY] = token
        return render(request, "accounts/invitation_landing.html", {"invitation": invitation})
    if request.method == "POST":
        try:
            membership = services.invitation_accept(token=token, user=request.user, ip=client_ip(request))
        except ValidationError as exc:
            request.session.pop(PENDING_INVITATION_SESSION_KEY, None)
            return render(request, "accounts/invitation_invalid.html", {"problem": exc.messages[0]}, status=409)
        request.session.pop(PENDING_INVITATION_SESSION_KEY, None)
        messages.success(request, f"Welcome to {membership.organization.name}!")
        return redirect("accounts:dashboard", membership.organization.slug)
    # The user has arrived: `home` stops sending them here, whether they accept or walk away.
    request.session.pop(PENDING_INVITATION_SESSION_KEY, None)
    email_matches = invitation.email.lower() == request.user.email.lower()
    return render(
        request, "accounts/invitation_accept.html", {"invitation": invitation, "email_matches": email_matches}
    )


MEMBERS_PER_PAGE = 50  # the people page stays one bounded render however large the organization


@org_member_required
def dashboard(request):
    org = request.organization
    context = {
        "member_count": selectors.membership_list(org=org, include_inactive=False).count(),
        "team_count": selectors.team_list(org=org).count(),
    }
    return render(request, "accounts/dashboard.html", context)


@org_member_required
def members(request):
    org, actor = request.organization, request.membership
    invite_form = InvitationForm(actor=actor)
    query = request.GET.get("q", "").strip()[:100]
    people = selectors.membership_list(org=org, search=query)
    page = Paginator(people, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "memberships": page.object_list,
        "page": page,
        "query": query,
        "invitations": selectors.invitation_list_pending(org=org)[:50],
        "invite_form": invite_form,
        "roles": Role.choices,
        "can_manage": actor.role >= Role.ADMIN,
    }
    return render(request, "accounts/members.html", context)


@require_POST
@org_member_required(min_role=Role.ADMIN)
def invitation_create(request):
    org, actor = request.organization, request.membership
    form = InvitationForm(request.POST, actor=actor)
    if form.is_valid():
        try:
            services.invitation_send(actor=actor, ip=client_ip(request), **form.cleaned_data)
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
            if request.htmx:
                response = render(request, "accounts/_invite_form.html", {"invite_form": InvitationForm(actor=actor)})
                response["HX-Refresh"] = "true"
                return response
            return redirect("accounts:members", org.slug)
    status = 422
    if request.htmx:
        return render(request, "accounts/_invite_form.html", {"invite_form": form}, status=status)
    context = {
        "memberships": selectors.membership_list(org=org),
        "invitations": selectors.invitation_list_pending(org=org)[:50],
        "invite_form": form,
        "roles": Role.choices,
        "can_manage": True,
    }
    return render(request, "accounts/members.html", context, status=status)


@require_POST
@org_member_required(min_role=Role.ADMIN)
def invitation_revoke(request, invitation_id):
    invitation = selectors.invitation_get(org=request.organization, public_id=invitation_id)
    services.invitation_revoke(actor=request.membership, invitation=invitation, ip=client_ip(request))
    messages.info(request, f"Invitation to {invitation.email} withdrawn.")
    return redirect("accounts:members", request.organization.slug)


@require_POST
@org_member_required(min_role=Role.ADMIN)
def member_role(request, member_id):
    membership = selectors.membership_get(org=request.organization, public_id=member_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a valid role.")
        return redirect("accounts:members", request.organization.slug)
    try:
        services.membership_change_role(
            actor=request.membership,
            membership=membership,
            role=form.cleaned_data["role"],
            ip=client_ip(request),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{membership.user.display_name} is now {membership.get_role_display()}.")
        if membership.role < Role.MEMBER:
            _warn_about_orphaned_work(request, membership)
    return redirect("accounts:members", request.organization.slug)


def _warn_about_orphaned_work(request, membership) -> None:
    """Someone who can no longer check in may still own live work: say so, so the admin hands it over."""
    from objectives.selectors import owned_live_work

    krs, initiatives = owned_live_work(org=request.organization, membership=membership)
    owned = [f"{n} live key result{'s' if n != 1 else ''}" for n in [krs] if n]
    owned += [f"{n} open initiative{'s' if n != 1 else ''}" for n in [initiatives] if n]
    if owned:
        messages.warning(
            request,
            f"{membership.user.display_name} still owns {' and '.join(owned)} but can no longer check in: "
            "give them to someone else.",
        )


@require_POST
@org_member_required(min_role=Role.ADMIN)
def member_deactivate(request, member_id):
    membership = selectors.membership_get(org=request.organization, public_id=member_id)
    try:
        services.membership_deactivate(actor=request.membership, membership=membership, ip=client_ip(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{membership.user.display_name} no longer has access.")
        _warn_about_orphaned_work(request, membership)
    return redirect("accounts:members", request.organization.slug)


@require_POST
@org_member_required(min_role=Role.ADMIN)
def member_reactivate(request, member_id):
    membership = selectors.membership_get(org=request.organization, public_id=member_id)
    services.membership_reactivate(actor=request.membership, membership=membership, ip=client_ip(request))
    messages.success(request, f"{membership.user.display_name} has access again.")
    return redirect("accounts:members", request.organization.slug)


@org_member_required
def teams(request):
    org = request.organization
    form = TeamForm(org=org)
    return render(request, "accounts/teams.html", {"teams": selectors.team_list(org=org), "form": form})


@require_POST
@org_member_required(min_role=Role.ADMIN)
def team_create(request):
    org = request.organization
    form = TeamForm(request.POST, org=org)
    if form.is_valid():
        try:
            team = services.team_save(actor=request.membership, **form.cleaned_data)
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, f"Team {team.name} created.")
            return redirect("accounts:team_detail", org.slug, team.public_id)
    return render(request, "accounts/teams.html", {"teams": selectors.team_list(org=org), "form": form}, status=422)


@org_member_required
def team_detail(request, team_id):
    org = request.organization
    team = selectors.team_get(org=org, public_id=team_id)
    can_edit = request.membership.role >= Role.ADMIN or (team.lead_id == request.membership.pk)
    form = None
    if can_edit:
        initial = {
            "name": team.name,
            "parent": team.parent,
            "lead": team.lead,
            "members": list(team.members.all()),
        }
        form = TeamForm(request.POST or None, org=org, team=team, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                services.team_save(actor=request.membership, team=team, **form.cleaned_data)
            except ValidationError as exc:
                add_validation_errors(form, exc)
            else:
                messages.success(request, "Team saved.")
                return redirect("accounts:team_detail", org.slug, team.public_id)
    elif request.method == "POST":
        return render(request, "403.html", {"reason": "Only admins and the team lead can edit this team."}, status=403)
    status = 422 if form is not None and form.errors else 200
    return render(request, "accounts/team_detail.html", {"team": team, "form": form}, status=status)


@require_POST
@org_member_required(min_role=Role.ADMIN)
def team_delete(request, team_id):
    team = selectors.team_get(org=request.organization, public_id=team_id)
    services.team_delete(actor=request.membership, team=team)
    messages.success(request, f"Team {team.name} deleted.")
    return redirect("accounts:teams", request.organization.slug)


@org_member_required(min_role=Role.MEMBER)
def tokens(request):
    org, actor = request.organization, request.membership
    form = ApiTokenForm(request.POST or None)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        try:
            _, new_secret = services.api_token_create(
                actor=actor, name=form.cleaned_data["name"], ip=client_ip(request)
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            form = ApiTokenForm()
    status = 422 if form.errors else 200
    context = {
        "tokens": selectors.api_token_list(org=org, membership=actor),
        "form": form,
        "new_secret": new_secret,
    }
    return render(request, "accounts/tokens.html", context, status=status)


@require_POST
@org_member_required(min_role=Role.MEMBER)
def token_revoke(request, token_id):
    token = selectors.api_token_get(org=request.organization, membership=request.membership, public_id=token_id)
    services.api_token_revoke(actor=request.membership, token=token, ip=client_ip(request))
    messages.success(request, f"Token {token.name} revoked. Scripts using it now get 401.")
    return redirect("accounts:tokens", request.organization.slug)


@org_member_required(min_role=Role.ADMIN)
def audit(request):
    events = selectors.audit_event_list(org=request.organization)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    for event in page:
        event.diff_lines = audit_diff_lines(event.diff)
    return render(request, "accounts/audit.html", {"page": page})


_DECIMAL = re.compile(r"-?\d+\.\d+")
# Diff keys whose value is a list of things, never an [old, new] pair (objective.published, objective.deleted).
_LIST_KEYS = frozenset({"key_results"})


def _audit_value(value) -> str:
    """One stored value as words: 2.0000 → 2, 1.2500 → 1.25, None → —."""
    if value is None or value == "":
        return "—"
    text = str(value)
    if isinstance(value, float | str) and _DECIMAL.fullmatch(text):
        text = text.rstrip("0").rstrip(".")
    return text


def audit_diff_lines(diff) -> list[tuple[str, str]]:
    """An audit event's diff as (field, text) pairs: [old, new] pairs read "old → new", other lists and dicts are
    listed, numbers lose their trailing zeros (the page showed Python's ['2.0000', '1.0000'])."""
    if not isinstance(diff, dict):
        return [("", _audit_value(diff))] if diff else []
    lines = []
    for key, value in diff.items():
        if isinstance(value, list) and len(value) == 2 and key not in _LIST_KEYS:
            text = f"{_audit_value(value[0])} → {_audit_value(value[1])}"
        elif isinstance(value, list):
            text = ", ".join(_audit_value(v) for v in value) or "—"
        elif isinstance(value, dict):
            text = ", ".join(f"{k}: {_audit_value(v)}" for k, v in value.items()) or "—"
        else:
            text = _audit_value(value)
        lines.append((str(key), text))
    return lines


@org_member_required
def my_settings(request):
    membership = request.membership
    initial = {
        "name": request.user.name,
        "timezone": membership.timezone,
        "checkin_weekday": membership.checkin_weekday,
        "checkin_hour": membership.checkin_hour,
        "digest_opt_out": membership.digest_opt_out,
    }
    form = PersonalSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        services.user_update_name(user=request.user, name=data.pop("name"))
        data["timezone"] = data["timezone"] or ""
        services.membership_update_preferences(membership=membership, **data)
        messages.success(request, "Settings saved.")
        return redirect("accounts:my_settings", request.organization.slug)
    status = 422 if form.errors else 200
    return render(request, "accounts/my_settings.html", {"form": form}, status=status)


def home(request):
    """Send a signed-in user to their last organization (or to create their first one)."""
    if not request.user.is_authenticated:
        return redirect("account_login")
    pending = request.session.get(PENDING_INVITATION_SESSION_KEY)
    if pending:  # an invitation opened before sign-up/login (and email verification) comes first
        return redirect("invitation_accept", pending)
    orgs = selectors.user_organizations(user=request.user)
    last = request.session.get(LAST_ORG_SESSION_KEY)
    slugs = list(orgs.values_list("slug", flat=True))
    if last in slugs:
        return redirect(_landing_view(request.user, last), last)
    if slugs:
        return redirect(_landing_view(request.user, slugs[0]), slugs[0])
    return redirect("organization_create")


def _landing_view(user, slug: str) -> str:
    """Members who own active KRs land on My week (issue 4: the weekly habit comes first); others on the dashboard."""
    from checkins.selectors import landing_view_name  # checkins imports accounts; import here to avoid a cycle

    return landing_view_name(user=user, org_slug=slug)
