"""Run the scenarios and render their figures as a table and as docs/reliability.md."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from canvasgen_stack.reliability.harness import Harness, Tally
from canvasgen_stack.reliability.realtime import realtime_restart
from canvasgen_stack.reliability.scenarios import SCENARIOS, Scenario

ALL: dict[str, Scenario] = {**SCENARIOS, "Realtime server restarted while clients watch": realtime_restart}
HEADER = ("scenario", "runs", "nodes", "stuck", "lost", "edits", "edits lost", "seconds")


@dataclass
class Row:
    """The figures of one scenario over its runs."""

    scenario: str
    runs: int
    tally: Tally
    seconds: float

    @property
    def clean(self) -> bool:
        return self.tally.stuck == self.tally.lost == self.tally.edits_lost == 0

    def cells(self) -> tuple[str, ...]:
        t = self.tally
        return (
            self.scenario,
            str(self.runs),
            str(t.nodes),
            str(t.stuck),
            str(t.lost),
            str(t.edits),
            str(t.edits_lost),
            f"{self.seconds:.1f}",
        )


def run(harness: Harness, runs: int, progress: Callable[[str], None] = print) -> list[Row]:
    """Run every scenario `runs` times."""
    rows = []
    for name, scenario in ALL.items():
        total, started = Tally(), time.monotonic()
        for attempt in range(runs):
            progress(f"  {name} (run {attempt + 1}/{runs})")
            one = scenario(harness)
            total.nodes += one.nodes
            total.stuck += one.stuck
            total.lost += one.lost
            total.edits += one.edits
            total.edits_lost += one.edits_lost
            total.notes += one.notes
        rows.append(Row(name, runs, total, time.monotonic() - started))
    return rows


def table(rows: list[Row]) -> str:
    """Render the rows as a Markdown table."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)


def write_markdown(rows: list[Row], path: Path, command: str) -> None:
    """Write the reliability report."""
    notes = [f"- {row.scenario}: {note}" for row in rows for note in row.tally.notes]
    text = [
        "# Reliability: the fault-injection suite",
        "",
        "Each scenario breaks one part of the real local stack and counts nodes left stuck loading, nodes",
        "that lost their result (or their expected failure), and autosaved edits that went missing.",
        "Time is compressed: the suite's stack reconciles jobs older than 2 s and times them out after 8 s,",
        "and scenarios move jobs' creation time back instead of waiting minutes.",
        "",
        table(rows),
        "",
        f"Command: `{command}` · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {platform.machine()},"
        f" {platform.python_implementation()} {platform.python_version()}",
    ]
    if notes:
        text += ["", "Notes:", *notes]
    path.write_text("\n".join(text) + "\n")
