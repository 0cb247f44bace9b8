"""Range header parsing."""

from __future__ import annotations

import pytest

from canvasgen_stack.falsim.ranges import ByteRange, RangeNotSatisfiable, parse_range


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-9", ByteRange(0, 9)),
        ("bytes=5-", ByteRange(5, 99)),
        ("bytes=-10", ByteRange(90, 99)),
        ("bytes=-500", ByteRange(0, 99)),
        ("bytes=90-500", ByteRange(90, 99)),
        ("bytes=99-99", ByteRange(99, 99)),
    ],
)
def test_single_ranges(header: str, expected: ByteRange) -> None:
    """Closed, open and suffix ranges resolve against the content size, clamped to its end."""
    assert parse_range(header, 100) == expected


@pytest.mark.parametrize("header", [None, "", "bytes=", "bytes=-", "bytes=9-3", "bytes=0-1,4-5", "lines=0-1"])
def test_ignored_ranges_mean_whole_content(header: str | None) -> None:
    """Missing, malformed or multiple ranges are ignored (whole content)."""
    assert parse_range(header, 100) is None


@pytest.mark.parametrize(("header", "size"), [("bytes=100-", 100), ("bytes=-0", 100), ("bytes=0-", 0)])
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    """Ranges starting at or past the end, or empty suffixes, are unsatisfiable."""
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, size)
