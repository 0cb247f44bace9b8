"""The quick benchmark, run once end to end on the test stack so that the benchmarks never rot."""

from __future__ import annotations

import json
import math
from pathlib import Path

from canvasgen_bench import report, runner
from canvasgen_stack.config import StackSettings


def test_quick_benchmark_gives_every_row_its_figures(stack: StackSettings, tmp_path: Path) -> None:
    """Every benchmark runs and every row has a value, and a baseline and ratio where it has a baseline."""
    results = runner.run("pytest", quick=True, settings=stack)
    report.write(results, tmp_path / "benchmarks.md", tmp_path / "bench-results.json")

    assert results.failures == {}
    assert {row.benchmark for row in results.rows} == {
        module.BENCHMARK for module in runner.BENCHMARKS.values()
    }
    incomplete = [f"{row.benchmark} / {row.case} / {row.measure}" for row in results.rows if not row.complete]
    assert incomplete == []
    saved = json.loads((tmp_path / "bench-results.json").read_text())
    for row in saved["rows"]:
        figures = [row["value"]] + ([row["baselineValue"], row["ratio"]] if row["baseline"] else [])
        assert all(figure["median"] is not None and math.isfinite(figure["median"]) for figure in figures), (
            row
        )
    assert "| benchmark |" in (tmp_path / "benchmarks.md").read_text()
