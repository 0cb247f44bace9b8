"""The results of a run: one table on the terminal, `docs/benchmarks.md`, and `bench-results.json`."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from canvasgen_bench.rows import Row
from canvasgen_bench.stats import Figure

HEADER = ("benchmark", "case", "measure", "ours", "baseline", "baseline value", "ratio")


@dataclass
class Results:
    """Everything one run produced."""

    command: str
    quick: bool
    started: str
    machine: dict[str, str]
    rows: list[Row] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    methods: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> dict[str, object]:
        """Return the results as plain JSON values."""
        return {
            "command": self.command,
            "quick": self.quick,
            "started": self.started,
            "seconds": round(self.seconds, 1),
            "machine": self.machine,
            "rows": [row.to_json() for row in self.rows],
            "failures": self.failures,
        }


def number(value: float) -> str:
    """Format a figure with as many digits as its size deserves."""
    if not math.isfinite(value):
        return "–"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def spread(figure: Figure | None, suffix: str = "") -> str:
    """Format a figure as `median (min–max)`."""
    if figure is None:
        return ""
    if not figure.values:
        return "–"
    if len(figure.values) == 1 or figure.low == figure.high:
        return f"{number(figure.median)}{suffix}"
    return f"{number(figure.median)}{suffix} ({number(figure.low)}–{number(figure.high)})"


def cells(row: Row) -> tuple[str, ...]:
    """Return the table cells of one row."""
    return (
        row.benchmark,
        row.case,
        row.measure + (f" [{row.note}]" if row.note else ""),
        spread(row.value),
        row.baseline_name,
        spread(row.baseline),
        spread(row.ratio, "×"),
    )


def markdown_table(rows: list[Row]) -> str:
    """Return the rows as a Markdown table."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(cells(row)) + " |" for row in rows]
    return "\n".join(lines)


def text_table(rows: list[Row]) -> str:
    """Return the rows as an aligned plain-text table."""
    table = [HEADER, *(cells(row) for row in rows)]
    widths = [max(len(line[column]) for line in table) for column in range(len(HEADER))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) for line in table
    )


def markdown(results: Results) -> str:
    """Return `docs/benchmarks.md`."""
    machine = "\n".join(f"- {key}: {value}" for key, value in results.machine.items())
    methods = "\n\n".join(f"**{name}.** {text}" for name, text in results.methods.items())
    failures = "".join(f"\n- **{name}** failed: `{error}`" for name, error in results.failures.items())
    return f"""# Benchmarks

Produced by `{results.command}` on {results.started} in {results.seconds / 60:.1f} minutes.
Do not edit: run the command again.

Every figure is the median of the rounds of one run, with the lowest and highest round in brackets.
Each ratio is ours ÷ baseline, taken round by round (both measured in the same round, so that both saw
the same machine at the same moment) and then summarised the same way. The machine is shared and
noisy: read the ratios, not the absolute numbers.
{failures}
{markdown_table(results.rows)}

## Machine

{machine}

## Method

{methods}

Profiles of the poor figures, what they showed and what was changed: [profiles/](profiles/README.md).
"""


def write(results: Results, docs: Path | None, json_path: Path | None) -> None:
    """Write the Markdown page and the JSON results (either may be skipped)."""
    if docs is not None:
        docs.parent.mkdir(parents=True, exist_ok=True)
        docs.write_text(markdown(results))
    if json_path is not None:
        json_path.write_text(json.dumps(results.to_json(), indent=2) + "\n")
