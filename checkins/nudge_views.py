"""Pages of the nudge pipeline: the one-step check-in behind a nudge link, and the org's check-in settings."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.audit import client_ip
from accounts.models import Role, Team
from checkins.links import LinkProblem, nudge_link_resolve, nudge_link_submit
from checkins.nudge_forms import CheckinSettingsForm, LinkCheckinForm, TeamSlackForm
from checkins.nudge_settings import CHECKIN_SETTINGS, organization_update_checkin_settings, team_set_slack_webhook
from checkins.services import BatchValidationError
from checkins.slack import slack_webhook_mask
from checkins.tasks import send_test_nudge
from okrapp.forms import add_validation_errors
from okrapp.tenancy import org_member_required


def _problem(request, problem: LinkProblem):
    return render(request, "checkins/nudge_link_problem.html", {"problem": problem}, status=problem.status)


@never_cache
def nudge_checkin(request, token: str):
    """GET: the one-step form for the link's KRs. POST: save, use the link up. No login: the signed link is the key."""
    try:
        target = nudge_link_resolve(token=token)
    except LinkProblem as problem:
        return _problem(request, problem)
    form = LinkCheckinForm(request.POST or None, key_results=target.key_results)
    if request.method == "POST" and form.is_valid():
        rows = form.filled_rows()
        if not rows:
            form.add_error(None, "Enter a new value for at least one key result.")
        else:
            try:
                target, result = nudge_link_submit(token=token, rows=rows)
            except LinkProblem as problem:
                return _problem(request, problem)
            except BatchValidationError as exc:
                form.add_row_errors(exc.row_errors)
            except ValidationError as exc:
                add_validation_errors(form, exc)
            except PermissionDenied as exc:
                return render(request, "checkins/nudge_link_problem.html", {"problem": exc}, status=403)
            else:
                context = {"target": target, "checkins": result.checkins}
                return render(request, "checkins/nudge_done.html", context)
    context = {"target": target, "form": form, "org": target.membership.organization}
    return render(request, "checkins/nudge_checkin.html", context, status=422 if form.errors else 200)


def _settings_form(org, data=None) -> CheckinSettingsForm:
    # The Slack URL is a secret: the form gets only a masked hint, never the URL as an initial value.
    initial = {name: getattr(org, name) for name in CHECKIN_SETTINGS if name != "slack_webhook_url"}
    return CheckinSettingsForm(data, initial=initial, slack_hint=slack_webhook_mask(org.slack_webhook_url))


@org_member_required(min_role=Role.ADMIN)
def org_settings(request):
    """Default check-in day/hour/time zone, reminders, Slack webhook, digest day; the test-nudge button."""
    org = request.organization
    form = _settings_form(org, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization_update_checkin_settings(
                actor=request.membership, ip=client_ip(request), **form.settings_changes()
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, "Check-in settings saved. Everyone's next nudge time was updated.")
            return redirect("nudges:org_settings", org.slug)
    return _render_settings(request, form=form, team_form=None)


def _render_settings(request, *, form, team_form):
    org = request.organization
    teams = Team.objects.for_org(org).order_by("name")
    if form is None:
        form = _settings_form(org)
    team_form = team_form or TeamSlackForm(teams=teams)
    status = 422 if form.errors or team_form.errors else 200
    team_hints = [(team, slack_webhook_mask(team.slack_webhook_url)) for team in teams]
    context = {"form": form, "team_form": team_form, "teams": teams, "team_hints": team_hints}
    return render(request, "checkins/org_settings.html", context, status=status)


@require_POST
@org_member_required(min_role=Role.ADMIN)
def team_slack(request):
    org = request.organization
    team_form = TeamSlackForm(request.POST, teams=Team.objects.for_org(org))
    if team_form.is_valid():
        try:
            team = team_set_slack_webhook(
                actor=request.membership,
                team=team_form.cleaned_data["team"],
                url=team_form.cleaned_data["slack_webhook_url"],
                ip=client_ip(request),
            )
        except ValidationError as exc:
            add_validation_errors(team_form, exc)
        else:
            messages.success(request, f"Slack webhook for {team.name} saved.")
            return redirect("nudges:org_settings", org.slug)
    return _render_settings(request, form=None, team_form=team_form)


@require_POST
@org_member_required(min_role=Role.ADMIN)
def test_nudge(request):
    """Enqueue a sample nudge to the admin pressing the button. It writes no receipt."""
    send_test_nudge.delay_on_commit(request.membership.pk)
    messages.success(request, f"A test nudge is on its way to {request.user.email}.")
    return redirect("nudges:org_settings", request.organization.slug)
