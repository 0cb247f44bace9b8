"""Figures measured over repeated rounds: median, percentiles and spread, and ratios taken round by round."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the percentile of `values` by linear interpolation (`fraction` 0.5 is the median)."""
    if not values or any(math.isnan(value) for value in values):
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    """Return the median."""
    return percentile(values, 0.5)


def p95(values: Sequence[float]) -> float:
    """Return the 95th percentile."""
    return percentile(values, 0.95)


@dataclass(frozen=True)
class Figure:
    """One quantity, one value per round of the run."""

    values: tuple[float, ...]
    unit: str

    @classmethod
    def of(cls, values: Sequence[float], unit: str) -> Figure:
        """Build a figure from the values of the rounds."""
        return cls(tuple(float(value) for value in values), unit)

    @property
    def median(self) -> float:
        return median(self.values)

    @property
    def low(self) -> float:
        return min(self.values) if self.values else math.nan

    @property
    def high(self) -> float:
        return max(self.values) if self.values else math.nan

    @property
    def complete(self) -> bool:
        """Tell whether every round produced a finite value."""
        return bool(self.values) and all(math.isfinite(value) for value in self.values)

    def to_json(self) -> dict[str, object]:
        """Return the figure as plain JSON values."""
        return {
            "unit": self.unit,
            "median": _finite(self.median),
            "min": _finite(self.low),
            "max": _finite(self.high),
            "rounds": [_finite(value) for value in self.values],
        }


def ratio(numerators: Sequence[float], denominators: Sequence[float]) -> Figure:
    """Divide round by round, so that both sides of each ratio saw the same machine at the same time."""
    values = [n / d if d else math.nan for n, d in zip(numerators, denominators, strict=True)]
    return Figure.of(values, "×")


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
