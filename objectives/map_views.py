"""The alignment map page (DESIGN.md §1): the whole cascade of a cycle, its warnings, filters by team and signal.

One selector call per response (objectives.map_page.map_page): the skeleton of the whole map (the tree's shape, the
filters) and the full facts of a bounded number of objectives (map_page.PAGE_BUDGET) with the reasons behind their
signals; deeper groups load when a reader opens them (`?objective=<id>` or `?kr=<id>` return just that group,
`?roots_from=<n>` the next top-level objectives). The warnings panel and the KR / initiative counts judge every KR
of the map, so the page asks for them right after its first paint (`?panel=warnings`, map_page.map_panel), unless a
signal filter needs every objective judged anyway.
"""

import uuid

from django.http import Http404
from django.shortcuts import render

from accounts import selectors as account_selectors
from objectives import map as okr_map
from objectives import selectors
from objectives.map_html import nodes_html
from objectives.map_page import map_page, map_panel
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
    if request.GET.get("panel") == "warnings":  # the page's warnings panel, loaded after its first paint
        panel = map_panel(org=org, membership=membership, cycle=cycle)
        return render(request, "objectives/_map_warnings.html", {"cycle": cycle, "map": panel, "fragment": True})
    teams = list(account_selectors.team_list(org=org))
    team_id = _uuid(request.GET.get("team"))
    team = next((t for t in teams if t.public_id == team_id), None)
    signal = request.GET.get("signal")
    signal = signal if signal in okr_map.FILTER_LABELS else None
    objective_id, kr_id = _uuid(request.GET.get("objective")), _uuid(request.GET.get("kr"))
    offset = _offset(request.GET.get("roots_from"))
    page = map_page(
        org=org,
        membership=membership,
        cycle=cycle,
        team=team,
        signal=signal,
        objective_id=objective_id,
        key_result_id=kr_id,
        roots_from=offset,
        panel=False,  # the full page loads the panel after its first paint; other responses do not show it
    )
    if page is None:
        raise Http404("Not on this map.")
    context = {
        "cycle": cycle,
        **page,
        "teams": teams,
        "team": team,
        "signal": signal,
        "filtered": bool(team or signal),
        "signal_choices": list(okr_map.FILTER_LABELS.items()),
        "warning_labels": okr_map.WARNINGS,
        "query": _query(cycle, team, signal),
    }
    group = bool(objective_id or kr_id or offset)  # a deferred group opened by the reader, or the next top level
    context["nodes_html"] = nodes_html(page, org_slug=org.slug, query=context["query"], root=not group)
    if group:
        return render(request, "objectives/_map_children.html", context)
    if request.htmx and request.htmx.target == "map-body":
        return render(request, "objectives/_map_body.html", context)
    context["cycles"] = _cycle_tabs(org, cycle)
    return render(request, "objectives/map.html", context)


def _offset(raw: str | None) -> int:
    try:
        return max(0, int(raw or 0))
    except ValueError:
        return 0


def _query(cycle, team, signal) -> str:
    """The query string that keeps the current cycle and filters (for lazy groups and links)."""
    parts = [f"cycle={cycle.public_id}"]
    if team:
        parts.append(f"team={team.public_id}")
    if signal:
        parts.append(f"signal={signal}")
    return "&".join(parts)
