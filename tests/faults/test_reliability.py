"""The fault-injection suite on the test stack: every scenario ends with nothing stuck and nothing lost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from canvasgen_stack.config import StackSettings
from canvasgen_stack.reliability.harness import Harness
from canvasgen_stack.reliability.report import ALL
from tests.support import FalSimulator


@pytest.fixture
def harness(stack: StackSettings, fal: FalSimulator) -> Iterator[Harness]:
    """A scenario harness on the test stack."""
    h = Harness(stack)
    yield h
    h.close()


@pytest.mark.parametrize("name", list(ALL))
def test_scenario_loses_nothing(harness: Harness, name: str) -> None:
    """The scenario leaves no node stuck loading, no result lost, no autosaved edit lost."""
    tally = ALL[name](harness)
    assert tally.nodes > 0
    assert (tally.stuck, tally.lost, tally.edits_lost) == (0, 0, 0), tally.notes
