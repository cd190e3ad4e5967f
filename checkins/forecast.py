"""Pure check-in maths: value formatting, progress of a value, end-of-cycle forecast, confidence disagreement.

No database access here: callers pass plain values, so the functions are cheap to test and reuse (charts, the API,
digests). Progress and number formatting come from objectives.progress, so a forecast is judged by the same formula
as the KR itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from objectives import progress as okr_progress

DEFAULT_FORECAST_WINDOW = 4  # the last N effective weekly points drive the slope


@dataclass(frozen=True)
class KrShape:
    """What the maths needs to know about a KR (built from a KeyResult with `KrShape.of(kr)`)."""

    kind: str
    baseline: Decimal
    target: Decimal
    band_low: Decimal | None = None
    band_high: Decimal | None = None
    steps: int = 0
    unit: str = "number"
    unit_label: str = ""
    decimals: int = 0

    @classmethod
    def of(cls, kr) -> KrShape:
        return cls(
            kind=kr.kind,
            baseline=Decimal(kr.baseline),
            target=Decimal(kr.target),
            band_low=kr.band_low,
            band_high=kr.band_high,
            steps=len(kr.milestone_steps or []),
            unit=kr.unit,
            unit_label=kr.unit_label or "",
            decimals=kr.decimals or 0,
        )

    @property
    def is_milestone(self) -> bool:
        return self.kind == "milestone"


@dataclass(frozen=True)
class Point:
    """One effective weekly value: `day` is the date it was reported."""

    day: date
    value: Decimal


@dataclass(frozen=True)
class Forecast:
    value: Decimal
    slope_per_week: Decimal
    points_used: int


# --- Formatting ---------------------------------------------------------------------------------------------------
def format_value(shape: KrShape, value) -> str:
    """A value as people read it: "42.5%", "€1,200", "12 NPS", "Done", "2 of 5 steps" (numbers: objectives.progress)."""
    if value is None:
        return "—"
    if shape.is_milestone:
        if shape.steps:
            return f"{int(Decimal(value))} of {shape.steps} steps"
        return "Done" if Decimal(value) >= 1 else "Not done"
    return okr_progress.format_value(
        value=Decimal(value), unit=shape.unit, unit_label=shape.unit_label, decimals=shape.decimals
    )


def unit_suffix(shape: KrShape) -> str:
    """The unit shown next to an input box."""
    if shape.is_milestone:
        return f"of {shape.steps} steps" if shape.steps else "0 = not done, 1 = done"
    if shape.unit == "percent":
        return "%"
    if shape.unit in ("currency", "custom"):
        return shape.unit_label
    return ""


# --- Progress -----------------------------------------------------------------------------------------------------
def progress_for_value(shape: KrShape, value) -> float:
    """Progress 0..1 that `value` would give this KR (the one formula in objectives.progress, DESIGN.md §2)."""
    return okr_progress.kr_progress(
        kind=shape.kind,
        baseline=shape.baseline,
        target=shape.target,
        current=Decimal(value),
        band_low=shape.band_low,
        band_high=shape.band_high,
        milestone_steps=[None] * shape.steps,
    ).value


# --- Forecast -----------------------------------------------------------------------------------------------------
def forecast_end_value(
    points: list[Point],
    *,
    cycle_start: date,
    cycle_end: date,
    shape: KrShape | None = None,
    window: int = DEFAULT_FORECAST_WINDOW,
) -> Forecast | None:
    """Least-squares line through the last `window` weekly points, read at the cycle's end. None below 2 points.

    Binary milestones have no slope worth extrapolating (None). Staged milestones are clamped to 0..steps.
    """
    if window < 2:
        raise ValueError("The forecast window needs at least 2 points.")
    if shape is not None and shape.is_milestone and not shape.steps:
        return None
    recent = sorted(points, key=lambda p: p.day)[-window:]
    if len(recent) < 2:
        return None
    xs = [float((p.day - cycle_start).days) for p in recent]
    ys = [float(p.value) for p in recent]
    n = len(recent)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    if sxx == 0:  # all on one day: no slope
        return None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sxx
    intercept = mean_y - slope * mean_x
    end_x = float((cycle_end - cycle_start).days)
    value = intercept + slope * end_x
    if shape is not None and shape.is_milestone:
        value = min(max(value, 0.0), float(shape.steps))
    return Forecast(
        value=Decimal(str(round(value, 4))),
        slope_per_week=Decimal(str(round(slope * 7, 4))),
        points_used=n,
    )


# --- Forecast vs confidence ---------------------------------------------------------------------------------------
LOW_FORECAST, HIGH_CONFIDENCE = 0.5, 7
HIGH_FORECAST, LOW_CONFIDENCE = 0.9, 3


def confidence_disagreement(forecast_progress: float | None, confidence: int | None) -> str | None:
    """A sentence when the numbers and the owner's confidence tell different stories; None when they agree."""
    if forecast_progress is None or confidence is None:
        return None
    pct = round(forecast_progress * 100)
    if forecast_progress < LOW_FORECAST and confidence >= HIGH_CONFIDENCE:
        return (
            f"The trend reaches only {pct}% of the target by the end of the cycle, "
            f"but the owner's confidence is {confidence}/10. Is something about to change the trend?"
        )
    if forecast_progress >= HIGH_FORECAST and confidence <= LOW_CONFIDENCE:
        return (
            f"The trend reaches {pct}% of the target by the end of the cycle, "
            f"yet the owner's confidence is only {confidence}/10. What does the owner know that the numbers don't?"
        )
    return None
