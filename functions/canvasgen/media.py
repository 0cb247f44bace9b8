"""Downloads of generated media from the provider, bounded and limited to the provider's hosts.

Only `https` URLs (plain `http` when the deployment allows it, for the local simulator) on the
configured media hosts are fetched; redirects are followed by hand so that every hop is checked
again. The body is streamed: never more than one chunk is held in memory, the size limit is checked
as bytes arrive, and the whole download has a deadline.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from canvasgen.config import Settings
from canvasgen.errors import MediaRefused, MediaUnavailable

MAX_REDIRECTS = 3
CHUNK_BYTES = 1024 * 1024


def check_url(url: str, settings: Settings) -> None:
    """Refuse a media URL that is not on an allowed host and scheme."""
    parts = urlsplit(url)
    schemes = {"https", "http"} if settings.media_allow_http else {"https"}
    if parts.scheme not in schemes or not parts.hostname:
        msg = f"media URLs must use {' or '.join(sorted(schemes))} on an allowed host"
        raise MediaRefused(msg, code="media_host_refused")
    if (
        parts.username
        or parts.password
        or not _host_allowed(parts.hostname, parts.port, settings.media_hosts)
    ):
        msg = f"media host {parts.hostname!r} is not an allowed provider host"
        raise MediaRefused(msg, code="media_host_refused")


def _host_allowed(host: str, port: int | None, allowed: list[str]) -> bool:
    host = host.lower().rstrip(".")
    for entry in allowed:
        name, _, entry_port = entry.partition(":") if not entry.startswith("[") else (entry, "", "")
        if entry_port and (port is None or str(port) != entry_port):
            continue
        if not entry_port and port is not None:
            continue
        if name.startswith(".") and host.endswith(name) or host == name:
            return True
    return False


@dataclass
class MediaStream:
    """A readable stream of media bytes that enforces the size limit and the deadline."""

    chunks: Iterator[bytes]
    content_type: str | None
    max_bytes: int
    deadline: float
    received: int = 0
    # What a read left of the last chunk. A read joins its chunks once: growing a bytes buffer chunk by
    # chunk copied 36 MiB for each 8 MiB part (docs/profiles/README.md, media relay).
    _rest: bytes = b""

    def read(self, size: int = -1) -> bytes:
        """Return up to `size` bytes (all that is left when `size` is negative)."""
        parts: list[bytes] = []
        wanted = size
        while wanted != 0 and (chunk := self._rest or self._next_chunk()):
            self._rest = b""
            if 0 <= wanted < len(chunk):
                chunk, self._rest = chunk[:wanted], chunk[wanted:]
            parts.append(chunk)
            wanted -= len(chunk)
        return b"".join(parts)

    def _next_chunk(self) -> bytes:
        try:
            chunk = next(self.chunks, b"")
        except httpx.HTTPError as exc:
            msg = f"the media download failed ({type(exc).__name__})"
            raise MediaUnavailable(msg) from exc
        self.received += len(chunk)
        if self.received > self.max_bytes:
            msg = f"the media is larger than the limit of {self.max_bytes} bytes"
            raise MediaRefused(msg, code="media_too_large")
        if time.monotonic() > self.deadline:
            msg = "the media download took longer than allowed"
            raise MediaUnavailable(msg, code="media_timeout")
        return chunk


@contextmanager
def download(url: str, settings: Settings, client: httpx.Client) -> Iterator[MediaStream]:
    """Open a checked, bounded stream of the media at `url`."""
    deadline = time.monotonic() + settings.media_timeout_seconds
    for _ in range(MAX_REDIRECTS + 1):
        check_url(url, settings)
        with _open(client, url, settings) as response:
            if response.is_redirect and "location" in response.headers:
                url = urljoin(url, response.headers["location"])
                continue
            _check_response(response, settings)
            yield MediaStream(
                chunks=response.iter_bytes(CHUNK_BYTES),
                content_type=_content_type(response),
                max_bytes=settings.media_max_bytes,
                deadline=deadline,
            )
            return
    msg = "the media URL redirects too many times"
    raise MediaRefused(msg, code="media_redirects")


@contextmanager
def _open(client: httpx.Client, url: str, settings: Settings) -> Iterator[httpx.Response]:
    timeout = httpx.Timeout(30.0, read=60.0)
    try:
        with client.stream("GET", url, timeout=timeout, follow_redirects=False) as response:
            yield response
    except httpx.HTTPError as exc:
        msg = f"the media could not be downloaded ({type(exc).__name__})"
        raise MediaUnavailable(msg) from exc


def _check_response(response: httpx.Response, settings: Settings) -> None:
    if response.status_code >= 500 or response.status_code == 429:
        msg = f"the media host answered {response.status_code}"
        raise MediaUnavailable(msg)
    if response.status_code != 200:
        msg = f"the media host answered {response.status_code}"
        raise MediaRefused(msg, code="media_unavailable")
    length = response.headers.get("content-length")
    if length and length.isdigit() and int(length) > settings.media_max_bytes:
        msg = f"the media is larger than the limit of {settings.media_max_bytes} bytes"
        raise MediaRefused(msg, code="media_too_large")


def _content_type(response: httpx.Response) -> str | None:
    value = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return value or None
