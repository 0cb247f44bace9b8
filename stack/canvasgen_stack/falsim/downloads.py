"""Serving of rendered media: streamed, with Range support, padding and throttling faults."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import AsyncIterator

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from canvasgen_stack.falsim.queue import MediaFile
from canvasgen_stack.falsim.ranges import ByteRange, RangeNotSatisfiable, parse_range
from canvasgen_stack.falsim.simulator import Simulator

MEDIA_NAME = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?:_[0-9]+)?\.(?:mp4|png)"
)
FILE_CHUNK = 64 * 1024
PADDING_CHUNK = 1024 * 1024
_ZEROS = bytes(PADDING_CHUNK)


async def media(request: Request) -> Response:
    """Serve a media file (or the fault-shaped version of it)."""
    simulator: Simulator = request.app.state.simulator
    name = request.path_params["file"]
    found = simulator.store.media(name) if MEDIA_NAME.fullmatch(name) else None
    if found is None:
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    job, file = found
    if job.faults.redirect:
        return RedirectResponse(job.faults.redirect, status_code=302)
    headers = {"Accept-Ranges": "bytes", "Content-Type": file.content_type}
    try:
        span = parse_range(request.headers.get("range"), file.served_size)
    except RangeNotSatisfiable:
        headers["Content-Range"] = f"bytes */{file.served_size}"
        return Response(status_code=416, headers=headers)
    status = 200 if span is None else 206
    span = span or ByteRange(0, file.served_size - 1)
    if status == 206:
        headers["Content-Range"] = f"bytes {span.start}-{span.end}/{file.served_size}"
    headers["Content-Length"] = str(span.length)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers)
    body = stream(file, span, job.faults.slow_media)
    return StreamingResponse(body, status_code=status, headers=headers)


async def stream(file: MediaFile, span: ByteRange, rate: int | None) -> AsyncIterator[bytes]:
    """Yield the bytes of span: the real file first, then zero padding, optionally throttled."""
    position = span.start
    started = time.monotonic()
    # Small chunks under throttling keep the pace smooth instead of bursty.
    limit = max(1, rate // 10) if rate else PADDING_CHUNK
    descriptor = os.open(file.path, os.O_RDONLY)
    try:
        while position <= span.end:
            want = min(span.end - position + 1, limit)
            if position < file.size:
                size = min(want, FILE_CHUNK, file.size - position)
                chunk = await anyio.to_thread.run_sync(os.pread, descriptor, size, position)
                if not chunk:
                    raise OSError(f"{file.path} is shorter than its recorded size")
            else:
                chunk = _ZEROS if want == PADDING_CHUNK else _ZEROS[:want]
            position += len(chunk)
            if rate:
                # Wait until the bytes sent so far, this chunk included, fit within the rate.
                await asyncio.sleep(max(0.0, (position - span.start) / rate - (time.monotonic() - started)))
            yield chunk
    finally:
        os.close(descriptor)
