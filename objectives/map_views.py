"""The alignment map page (DESIGN.md §1): the whole cascade of a cycle, its warnings, filters by team and signal.

One selector call per response (objectives.map.alignment_map). Large maps render a bounded number of objectives
(okr_map.PAGE_BUDGET) with the reasons behind their signals; deeper groups load when a reader opens them
(`?objective=<id>` or `?kr=<id>` return just that group, `?roots_from=<n>` the next top-level objectives). The
warnings panel counts the whole map.
"""

import uuid

from django.http import Http404
from django.shortcuts import render

from accounts import selectors as account_selectors
from objectives import map as okr_map
from objectives import selectors
from objectives.models import Cycle
from okrapp.tenancy import org_member_required


def _uuid(raw: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw) if raw else None
    except (ValueError, AttributeError):
        return None


def _cycle_tabs(org, cycle, limit: int = 6) -> list[Cycle]:
    """A few open cycles to switch between, newest first, always including the one on screen."""
    tabs = list(selectors.cycle_list(org=org).exclude(status=Cycle.Status.CLOSED)[:limit])
    if cycle.pk not in {c.pk for c in tabs}:
        tabs.append(cycle)
    return sorted(tabs, key=lambda c: (c.kind != Cycle.Kind.QUARTER, -c.start_date.toordinal()))


@org_member_required
def alignment_map(request):
    org, membership = request.organization, request.membership
    cycle_id = request.GET.get("cycle")
    if cycle_id:
        if _uuid(cycle_id) is None:
            raise Http404("No such cycle.")
        cycle = selectors.cycle_get(org=org, public_id=cycle_id)
    else:
        cycle = selectors.cycle_current(org=org)
    if cycle is None:
        return render(request, "objectives/map.html", {"cycle": None})
    # Unknown or malformed filter values are ignored (the page shows everything), never a 500.
    teams = list(account_selectors.team_list(org=org))
    team_id = _uuid(request.GET.get("team"))
    team = next((t for t in teams if t.public_id == team_id), None)
    signal = request.GET.get("signal")
    signal = signal if signal in okr_map.FILTER_LABELS else None
    result, index = okr_map.alignment_map(
        org=org, membership=membership, cycle=cycle, team=team, signal=signal, with_index=True
    )
    context = {
        "cycle": cycle,
        "map": result,
        "teams": teams,
        "team": team,
        "signal": signal,
        "filtered": bool(team or signal),
        "signal_choices": list(okr_map.FILTER_LABELS.items()),
        "query": _query(cycle, team, signal),
    }

    objective_id, kr_id = _uuid(request.GET.get("objective")), _uuid(request.GET.get("kr"))
    if objective_id or kr_id:  # one deferred group, opened by the reader
        group = okr_map.children_of(index, objective_id=objective_id, key_result_id=kr_id)
        if group is None:
            raise Http404("Not on this map.")
        return render(request, "objectives/_map_children.html", {**context, **_bounded(index, group, 0)})
    offset = _offset(request.GET.get("roots_from"))
    if offset:  # the next top-level objectives of a long map
        return render(request, "objectives/_map_children.html", {**context, **_bounded(index, result["roots"], offset)})

    context.update(_bounded(index, result["roots"], 0), root=True)
    if request.htmx and request.htmx.target == "map-body":
        return render(request, "objectives/_map_body.html", context)
    context["cycles"] = _cycle_tabs(org, cycle)
    return render(request, "objectives/map.html", context)


def _offset(raw: str | None) -> int:
    try:
        return max(0, int(raw or 0))
    except ValueError:
        return 0


def _bounded(index, group: list[dict], offset: int) -> dict:
    """A bounded slice of a sibling group (okr_map.PAGE_BUDGET objectives with their visible descendants), with the
    display facts of what is rendered and how many siblings are left for a "more" loader."""
    nodes, rendered = okr_map.trim_for_page(group[offset:])
    okr_map.decorate_for_page(index, rendered)
    return {"nodes": nodes, "more_from": offset + len(nodes), "more": len(group) - offset - len(nodes)}


def _query(cycle, team, signal) -> str:
    """The query string that keeps the current cycle and filters (for lazy groups and links)."""
    parts = [f"cycle={cycle.public_id}"]
    if team:
        parts.append(f"team={team.public_id}")
    if signal:
        parts.append(f"signal={signal}")
    return "&".join(parts)
