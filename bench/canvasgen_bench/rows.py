"""One line of the results table: a figure, the baseline it is compared with, and their ratio."""

from __future__ import annotations

from dataclasses import dataclass

from canvasgen_bench.stats import Figure, ratio


@dataclass(frozen=True)
class Row:
    """A measured figure beside its baseline from the same rounds; ratio is figure ÷ baseline."""

    benchmark: str
    case: str
    measure: str
    value: Figure
    baseline_name: str = ""
    baseline: Figure | None = None
    note: str = ""

    @property
    def ratio(self) -> Figure | None:
        if self.baseline is None:
            return None
        return ratio(self.value.values, self.baseline.values)

    @property
    def complete(self) -> bool:
        """Tell whether the row has every figure it promises."""
        return self.value.complete and (self.baseline is None or self.baseline.complete)

    def to_json(self) -> dict[str, object]:
        """Return the row as plain JSON values."""
        ratio_figure = self.ratio
        return {
            "benchmark": self.benchmark,
            "case": self.case,
            "measure": self.measure,
            "value": self.value.to_json(),
            "baseline": self.baseline_name or None,
            "baselineValue": self.baseline.to_json() if self.baseline else None,
            "ratio": ratio_figure.to_json() if ratio_figure else None,
            "note": self.note or None,
        }
