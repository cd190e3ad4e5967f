"""Progress math for key results and objectives (DESIGN.md §2). Pure functions: no database, no Django.

Progress is always computed from baseline/target/current (or the band, or the milestone steps), never typed in.
Every function takes keyword-only arguments and accepts Decimal, int, float or None for numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

# Maintain KRs with a one-sided or zero-width band have no band width to scale the distance by; we use this share
# of the bound's magnitude instead (leaving "≥ 99.5" by 9.95 or more scores 0), or 1 unit when the bound is 0.
ONE_SIDED_TOLERANCE = 0.10

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "INR": "₹", "CHF": "CHF "}

Number = Decimal | int | float | None


@dataclass(frozen=True)
class Progress:
    """A KR's progress: `value` in [0, 1]; `below_baseline` when the current value moved the wrong way.

    `inside_band` is only set for maintain KRs (True/False), None for the other kinds.
    """

    value: float
    below_baseline: bool = False
    inside_band: bool | None = None

    @property
    def percent(self) -> int:
        return round(self.value * 100)


def _f(value: Number) -> float | None:
    if value is None:
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def _clamp(value: float) -> float:
    return 0.0 if value <= 0 else 1.0 if value > 1 else value  # <= : -0.0 becomes 0.0 (JSON showed "-0.0")


def kr_progress(
    *,
    kind: str,
    baseline: Number = 0,
    target: Number = 0,
    current: Number = None,
    band_low: Number = None,
    band_high: Number = None,
    milestone_steps: list | None = None,
) -> Progress:
    """Progress of one key result, in [0, 1].

    - increase/decrease: clamp((current − baseline) / (target − baseline), 0, 1). The sign of (target − baseline)
      gives the direction (the kind only breaks the tie when baseline == target: then reaching the target in the
      kind's direction is 1, anything else 0). A value past the baseline in the wrong direction is 0 with
      `below_baseline=True`.
    - maintain: 1 inside [band_low, band_high] (either side may be open; with no band at all the target is the
      band). Outside, 1 − distance / reference, clamped, where reference is the band width, or for one-sided and
      zero-width bands ONE_SIDED_TOLERANCE × |bound| (1 when the bound is 0).
    - milestone: binary (no steps): 1 once current ≥ 1, else 0. Staged: current counts the steps done, so
      progress = floor(current) / len(steps), clamped.
    A missing current value is treated as the baseline (nothing has moved yet).
    """
    base = _f(baseline) or 0.0
    tgt = _f(target)
    tgt = base if tgt is None else tgt
    cur = _f(current)
    cur = base if cur is None else cur

    if kind == "milestone":
        steps = len(milestone_steps or [])
        if steps:
            return Progress(value=_clamp(math.floor(cur) / steps))
        return Progress(value=1.0 if cur >= 1 else 0.0)

    if kind == "maintain":
        return _maintain_progress(cur, _f(band_low), _f(band_high), tgt)

    span = tgt - base
    if span == 0:
        direction = -1 if kind == "decrease" else 1
        reached = (cur - tgt) * direction >= 0
        return Progress(value=1.0 if reached else 0.0, below_baseline=not reached)
    moved = cur - base
    below = moved * span < 0  # moved the opposite way to the target
    return Progress(value=0.0 if below else _clamp(moved / span), below_baseline=below)


def _maintain_progress(cur: float, low: float | None, high: float | None, target: float) -> Progress:
    if low is None and high is None:
        low = high = target
    if low is not None and high is not None and low > high:
        low, high = high, low
    if low is not None and cur < low:
        distance, bound = low - cur, low
    elif high is not None and cur > high:
        distance, bound = cur - high, high
    else:
        return Progress(value=1.0, inside_band=True)
    width = (high - low) if (low is not None and high is not None) else 0.0
    reference = width if width > 0 else (abs(bound) * ONE_SIDED_TOLERANCE or 1.0)
    return Progress(value=_clamp(1 - distance / reference), inside_band=False)


def objective_progress(*, items: list[tuple[float, Number]]) -> float:
    """Weighted mean of (progress, weight) pairs, in [0, 1]; 0 when there is nothing (or no weight) to average."""
    total_weight = 0.0
    total = 0.0
    for value, weight in items:
        w = _f(weight) or 0.0
        if w <= 0:
            continue
        total_weight += w
        total += _clamp(float(value)) * w
    return total / total_weight if total_weight else 0.0


def expected_progress(*, start: date, end: date, today: date) -> float:
    """Share of the cycle elapsed at `today` (linear pace), in [0, 1]. A cycle counts its end date as a whole day."""
    length = (end - start).days + 1
    if length <= 0:
        return 1.0
    return _clamp(((today - start).days + 1) / length)


def format_value(*, value: Number, unit: str, unit_label: str = "", decimals: int = 0) -> str:
    """A KR value as people read it: "34%", "€1,200", "1,200 CHF", "12 NPS", "1,200". None → "—"."""
    number = _f(value)
    if number is None:
        return "—"
    decimals = max(0, min(int(decimals or 0), 4))
    text = f"{number:,.{decimals}f}"
    if text.startswith("-0") and float(text.replace(",", "")) == 0:
        text = text[1:]  # no "-0"
    label = (unit_label or "").strip()
    if unit == "percent":
        return f"{text}%"
    if unit == "currency":
        symbol = CURRENCY_SYMBOLS.get(label.upper())
        if symbol and not symbol.endswith(" "):
            return f"-{symbol}{text[1:]}" if text.startswith("-") else f"{symbol}{text}"
        return f"{text} {label.upper() or symbol or ''}".rstrip()
    if unit == "custom" and label:
        return f"{text} {label}"
    return text
