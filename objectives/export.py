"""A cycle as a spreadsheet: one CSV row per key result (an objective without KRs gets one row of its own), in the
cycle board's order, with progress, values and signals, for leaders who review OKRs in a sheet or a slide.

The rows come from the board's judge (the same filters, search and privacy as the page) and the full assembly
(objectives.assembly), so a number in the export is the number on the page. Cells that a spreadsheet would run as a
formula (starting with = + - @, tab or carriage return) are prefixed with an apostrophe (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

HEADER = [
    "Level",
    "Team",
    "Objective",
    "Objective owner",
    "Objective status",
    "Objective progress %",
    "Key result",
    "Kind",
    "Key result owner",
    "Key result status",
    "Baseline",
    "Target",
    "Current",
    "Progress %",
    "Confidence",
    "Last check-in",
    "Initiatives",
    "Status",
    "Signals",
    "Objective id",
    "Key result id",
]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _labels(signals) -> str:
    return "; ".join(s.label for s in signals)


def _objective_cells(o: dict) -> list:
    return [
        o["level_label"],
        o["team"]["name"] if o["team"] else "",
        o["title"],
        o["owner"]["name"] if o["owner"] else "",
        o["status_label"],
        o["progress_pct"],
    ]


def _target(kr: dict) -> str:
    """The target as the page words it; a maintain KR's is its band ("80 ms–250 ms", "≥ 99.5%", "≤ 100%")."""
    display = kr["display"]
    if kr["kind"] != "maintain":
        return display["target"]
    low, high = display["band_low"], display["band_high"]
    return f"{low}–{high}" if low and high else f"≥ {low}" if low else f"≤ {high}"


def _key_result_cells(kr: dict) -> list:
    display = kr["display"]
    last = kr["last_checkin_at"]
    return [
        kr["title"],
        kr["kind_label"],
        kr["owner"]["name"] if kr["owner"] else "",
        kr["status_label"],
        display["baseline"],
        _target(kr),
        display["current"],
        kr["progress_pct"],
        kr["confidence"],
        f"{last:%Y-%m-%d}" if last else "",
        kr["initiatives_total"],
        kr["status_signal"].label if kr["status_signal"] else "",
        _labels(kr["signals"]),
    ]


def rows(objectives: Iterable[dict]) -> Iterable[list]:
    """Assembled objectives (with their key results) → CSV rows, header first."""
    yield HEADER
    for o in objectives:
        head = _objective_cells(o)
        if not o["key_results"]:
            status = o["status_signal"].label if o["status_signal"] else ""
            yield head + [""] * 11 + [status, _labels(o["signals"]), o["id"], ""]
        for kr in o["key_results"]:
            yield head + _key_result_cells(kr) + [o["id"], kr["id"]]


def to_csv(objectives: Iterable[dict]) -> str:
    """The whole file as text, with a byte-order mark so Excel reads it as UTF-8 (€, ü, …)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    for row in rows(objectives):
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()
