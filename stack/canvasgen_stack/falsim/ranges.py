"""HTTP Range header parsing for single byte ranges."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SINGLE = re.compile(r"bytes=\s*(\d*)\s*-\s*(\d*)\s*")


class RangeNotSatisfiable(ValueError):
    """The requested range lies wholly beyond the end of the content."""


@dataclass(frozen=True)
class ByteRange:
    """An inclusive byte range within content of a known size."""

    start: int
    end: int

    @property
    def length(self) -> int:
        """Return the number of bytes in the range."""
        return self.end - self.start + 1


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """Return the single range a Range header asks for, or None to send the whole content."""
    # RFC 9110 lets a server ignore Range headers it does not support (multiple or malformed ranges).
    match = _SINGLE.fullmatch(header.strip()) if header else None
    if match is None:
        return None
    first, last = match.groups()
    if not first:
        if not last:
            return None
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return ByteRange(max(0, size - suffix), size - 1)
    start, end = int(first), int(last) if last else None
    if end is not None and end < start:
        return None
    if start >= size:
        raise RangeNotSatisfiable
    return ByteRange(start, size - 1 if end is None else min(end, size - 1))
