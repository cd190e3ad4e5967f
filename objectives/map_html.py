"""What the map page shows of the objectives it draws (a few dozen per response, never the whole map): display
facts (objectives.map_page.map_page adds them with decorate()) and the nodes' HTML (nodes_html()).
"""

from __future__ import annotations

from html import escape

from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.text import capfirst

from initiatives.models import Initiative
from objectives import map as okr_map

# --- Display facts for the nodes a page renders (a few dozen; never the whole map) -------------------------------
STATUS_LABELS = {"on_track": "On track", "at_risk": "At risk", "off_track": "Off track", "stale": "Stale"}
DONE, CANCELLED = Initiative.Status.DONE, Initiative.Status.CANCELLED
DOT_ORDER = (
    (DONE, "done"),
    (Initiative.Status.IN_PROGRESS, "in progress"),
    (Initiative.Status.BLOCKED, "blocked"),
    (Initiative.Status.NOT_STARTED, "not started"),
    (CANCELLED, "cancelled"),
)
MAX_DOTS = 8


def _pct(value: float) -> int:
    return max(0, min(100, round(value * 100)))


def _initiatives_view(counts: dict) -> dict:
    """Dots (done first, at most MAX_DOTS), "3 initiatives: 2 done, 1 blocked", done/total (cancelled not bets)."""
    dots: list[str] = []
    for status, _ in DOT_ORDER:
        dots.extend([status] * counts.get(status, 0))
    total = sum(counts.values()) - counts.get(CANCELLED, 0)
    parts = [f"{counts[s]} {label}" for s, label in DOT_ORDER if counts.get(s)]
    noun = "initiative" if total == 1 else "initiatives"
    return {
        "dots": dots[:MAX_DOTS],
        "summary": f"{total} {noun}" + (": " + ", ".join(parts) if parts else ""),
        "total": total,
        "done": counts.get(DONE, 0),
    }


def _confidence_class(confidence: int | None) -> str:
    if confidence is None:
        return ""
    return "high" if confidence >= 7 else "mid" if confidence >= 4 else "low"


def decorate(index: okr_map.MapIndex, objectives: list[dict]) -> None:
    """Add what the page's templates show to `objectives` and their KRs (`view`): status label and reason, signal
    chips with reasons and hints, owner, team and cycle names, percent, initiative dots; so the templates only
    print."""
    cycle_names = {c["public_id"]: c["name"] for c in index.cycles.values()}
    people, team_names = index.people, index.team_names
    for node in objectives:
        reason, chips = okr_map.explain(index, node)
        node["view"] = {
            "status_label": STATUS_LABELS.get(node["status"], "Not live"),
            "status_reason": reason,
            "chips": chips,
            "owner": people.get(index.facts[id(node)][0][7]),
            "team": team_names.get(index.team[id(node)]),
            "cycle": cycle_names.get(node["cycle"]),
            "pct": _pct(node["progress"]),
        }
        for kr in node["key_results"]:
            reason, chips = okr_map.explain(index, kr)
            kr["view"] = {
                "status_label": STATUS_LABELS.get(kr["status"], "Not live"),
                "status_reason": reason,
                "chips": chips,
                "owner": people.get(index.facts[id(kr)][6]),
                "pct": _pct(kr["progress"]),
                "confidence_class": _confidence_class(kr["confidence"]),
                **_initiatives_view(kr["initiatives"]),
            }


# --- HTML of the rendered nodes -----------------------------------------------------------------------------------
# Drawn here rather than by templates/objectives/_map_node.html's loops: a page draws ~60 objectives with ~180 KRs
# and ~300 signal chips, which Django's template engine took ~120 ms to render (11,000 node renders); these
# f-strings take a few. Every value that comes from data goes through escape().
def _chip(s) -> str:
    label, reason = escape(s.label), escape(s.reason)
    hint = f"<br><em>{escape(s.hint)}</em>" if s.hint else ""
    return (
        f'<span class="chip chip-{escape(s.level)} sig" tabindex="0" data-signal="{escape(s.code)}" '
        f'title="{reason}">{label}<span class="sig-tip" role="tooltip"><strong>{label}:</strong> {reason}{hint}'
        "</span></span> "
    )


def _progress(status: str, pct: int, title: str) -> str:
    return (
        f'<div class="progress-line"><div class="progress {escape(status)}" role="progressbar" aria-valuemin="0" '
        f'aria-valuemax="100" aria-valuenow="{pct}" aria-label="Progress of {title}"><span style="width:{pct}%">'
        f'</span></div><span class="progress-pct">{pct}%</span></div>'
    )


def _plural(n: int) -> str:
    return "" if n == 1 else "s"


class Drawer:
    """HTML of map nodes for one response (the URLs reversed once)."""

    def __init__(self, *, org_slug: str, cycle_id: str, query: str):
        self.cycle_id = cycle_id
        self.map_url = escape(reverse("okrmap:map", args=[org_slug]))
        self.query = escape(query)
        marker = "00000000-0000-0000-0000-000000000000"
        self.objective_url = reverse("objectives:objective_detail", args=[org_slug, marker]).replace(marker, "{}")
        self.kr_url = reverse("objectives:kr_detail", args=[org_slug, marker]).replace(marker, "{}")

    def more(self, n: int, param: str, target, label: str) -> str:
        return (
            f'<details class="map-more" hx-get="{self.map_url}?{self.query}&amp;{param}={escape(str(target))}" '
            'hx-trigger="toggle once" hx-target="find .map-more-body" hx-swap="innerHTML" data-testid="map-more">\n'
            f"  <summary>{n} objective{_plural(n)} {label}</summary>\n"
            '  <div class="map-more-body"><p class="muted small">Loading…</p></div>\n</details>'
        )

    def children(self, nodes: list[dict], *, root: bool = False) -> str:
        items = "".join(self.node(n) for n in nodes)
        return f'<ul class="map-children{" map-roots" if root else ""}">{items}</ul>'

    def node(self, node: dict) -> str:
        v = node["view"]
        title, level, status = escape(node["title"]), escape(node["level"]), escape(node["status"])
        objective_status = node["objective_status"]
        classes = f"map-node st-{status} lvl-{level}"
        if node["context"]:
            classes += " is-context"
        if objective_status == "draft":
            classes += " is-draft"
        kicker = f'<span class="level-badge">{level}</span>'
        if v["team"]:
            kicker += f"<span>{escape(v['team'])}</span>"
        if node["cycle"] != self.cycle_id:
            kicker += f"<span>{escape(v['cycle'] or '')}</span>"
        if objective_status != "active":
            kicker += f'<span class="chip chip-grey">{escape(capfirst(objective_status))}</span>'
        chips = "".join(_chip(s) for s in v["chips"])
        if node["orphan"]:
            chips += (
                f'<span class="chip chip-amber" data-signal="orphan" title="A {level} objective should align to a '
                'company objective or key result.">Aligned to nothing</span>'
            )
        if node["aligned_outside"]:
            chips += (
                '<span class="chip chip-grey" title="Its parent is in another cycle or not visible to you.">'
                "Aligned outside this map</span>"
            )
        owner = v["owner"]
        if owner:
            who = (
                f'<span class="owner"><span class="avatar avatar-sm" aria-hidden="true">{escape(owner["initials"])}'
                f'</span><span class="owner-name">{escape(owner["name"])}</span></span>'
            )
        else:
            who = (
                '<span class="owner owner-none"><span class="avatar avatar-sm avatar-empty" aria-hidden="true">?'
                '</span><span class="owner-name">Unowned</span></span>'
            )
        if node["key_results"]:
            body = f'<ul class="map-krs">{"".join(self.key_result(kr) for kr in node["key_results"])}</ul>'
        else:
            body = '<p class="muted small map-nokr">No key results yet: nothing to measure this objective by.</p>'
        if node["contributes_to"]:
            links = "; ".join(
                f'<a href="{self.kr_url.format(escape(c["key_result_id"]))}">{escape(c["key_result_title"])}</a>'
                + (
                    ""
                    if c["weight"] == 1.0
                    else f' <span class="muted">(weight {floatformat(c["weight"], "-2")})</span>'
                )
                for c in node["contributes_to"]
            )
            body += f'<p class="map-contrib">⇢ Also contributes to {links}</p>'
        if node.get("deferred_children"):
            body += self.more(node["deferred_children"], "objective", node["id"], "aligned to this objective")
        elif node["children"]:
            body += '<div class="map-sub-label">Aligned to the objective as a whole</div>'
            body += self.children(node["children"])
        node_id = escape(node["id"])
        return (
            f'<li class="map-item"><details class="{classes}" open data-testid="map-node" data-objective="{node_id}" '
            f'data-title="{title}"><summary class="map-head"><div class="map-head-main">'
            f'<div class="map-kicker">{kicker}</div>'
            f'<a class="map-title" href="{self.objective_url.format(node_id)}">{title}</a>'
            f'<div class="chips map-chips"><span class="chip chip-{status} map-status" '
            f'title="{escape(v["status_reason"])}">{escape(v["status_label"])}</span> {chips}</div></div>'
            f'<div class="map-owner">{who}</div>'
            f'<div class="map-progress">{_progress(node["status"], v["pct"], title)}</div></summary>'
            f'<div class="map-body">{body}</div></details></li>'
        )

    def key_result(self, kr: dict) -> str:
        k = kr["view"]
        title, status = escape(kr["title"]), escape(kr["status"])
        dot_title = escape(k["status_label"] + (f": {k['status_reason']}" if k["status_reason"] else ""))
        extra = ""
        if kr["kr_status"] != "active":
            extra += f' <span class="chip chip-grey">{escape(capfirst(kr["kr_status"]))}</span>'
        if k["chips"]:
            extra += f' <span class="chips">{"".join(_chip(s) for s in k["chips"])}</span>'
        owner = k["owner"]
        if owner:
            name, initials = escape(owner["name"]), escape(owner["initials"])
            who = f'<span class="avatar avatar-sm" title="Owner: {name}">{initials}</span>'
        else:
            who = '<span class="avatar avatar-sm avatar-empty" title="No owner">?</span>'
        confidence = "–" if kr["confidence"] is None else kr["confidence"]
        dots = (
            "".join(f'<i class="dot dot-{d}"></i>' for d in k["dots"])
            or '<span class="map-nowork">no initiatives</span>'
        )
        if k["total"]:
            dots += f'<span class="map-dots-n">{k["done"]}/{k["total"]}</span>'
        tail = ""
        if kr["contributors"]:
            links = "; ".join(
                f'<a href="{self.objective_url.format(escape(c["objective_id"]))}">{escape(c["objective_title"])}</a>'
                for c in kr["contributors"]
            )
            tail += f'<p class="map-contrib map-contrib-in">⇠ Also moved by {links}</p>'
        if kr.get("deferred_children"):
            tail += self.more(kr["deferred_children"], "kr", kr["id"], "aligned to this key result")
        elif kr["children"]:
            tail += self.children(kr["children"])
        return (
            f'<li class="map-kr st-{status}" data-testid="map-kr" data-kr-title="{title}"><div class="map-kr-row">'
            f'<span class="map-kr-dot" title="{dot_title}"></span><div class="map-kr-main">'
            f'<a class="map-kr-title" href="{self.kr_url.format(escape(kr["id"]))}">{title}</a>{extra}</div>'
            f'<div class="map-kr-facts">{who} <span class="confidence {k["confidence_class"]}" '
            f'title="Owner\'s confidence, 0–10">{confidence}</span> '
            f'<span class="map-dots" title="{escape(k["summary"])}">{dots}</span></div>'
            f'<div class="map-kr-progress">{_progress(kr["status"], k["pct"], title)}</div></div>{tail}</li>'
        )


def nodes_html(page: dict, *, org_slug: str, query: str, root: bool) -> str:
    """The `<ul>` of one response's sibling group (map_page()'s `nodes`), as safe HTML."""
    drawer = Drawer(org_slug=org_slug, cycle_id=page["map"]["cycle"]["id"], query=query)
    return mark_safe(drawer.children(page["nodes"], root=root))  # noqa: S308 - every value is escaped above
