"""media: only the provider's hosts are fetched, within the size limit and the deadline."""

from __future__ import annotations

import time
from typing import Any

import pytest

from canvasgen.config import Settings
from canvasgen.errors import MediaRefused, MediaUnavailable
from canvasgen.media import MediaStream, check_url


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": "postgresql://u:p@127.0.0.1:1/db",
        "jwt_secret": "s" * 40,
        "fal_key": "k",
        "webhook_url": "http://127.0.0.1:1/fal-webhook",
        "storage_endpoint_url": "http://127.0.0.1:2",
        "storage_access_key_id": "a",
        "storage_secret_access_key": "b",
        "storage_bucket": "media",
        "media_public_base_url": "http://127.0.0.1:2/media",
        **overrides,
    }
    return Settings(**values)


PRODUCTION = settings()
LOCAL = settings(media_hosts="127.0.0.1:54327", media_allow_http=True)


@pytest.mark.parametrize(
    "url",
    [
        "https://v3.fal.media/files/a.mp4",
        "https://fal.media/x.png",
        "https://storage.googleapis.com/falserverless/k.mp4",
    ],
)
def test_provider_hosts_are_allowed(url: str) -> None:
    """https URLs on fal's media hosts pass."""
    check_url(url, PRODUCTION)


@pytest.mark.parametrize(
    "url",
    [
        "http://v3.fal.media/files/a.mp4",  # plain http in production
        "file:///etc/passwd",
        "https://fal.media.example.com/a.mp4",  # suffix trick
        "https://evilfal.media/a.mp4",
        "https://user:pw@fal.media/a.mp4",
        "https://localhost/a.mp4",
        "https://[::1]/a.mp4",
        "ftp://fal.media/a.mp4",
        "not a url",
    ],
)
def test_other_urls_are_refused_in_production(url: str) -> None:
    """Other schemes, hosts, look-alike hosts and credentials are refused."""
    with pytest.raises(MediaRefused):
        check_url(url, PRODUCTION)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.2:54327/m.mp4",
        "http://localhost:54322/",
        "http://[::1]/",
        "http://127.0.0.1:54322/",
        "http://127.0.0.1/m.mp4",
        "file:///tmp/x",
    ],
)
def test_local_stack_allows_only_the_simulators_port(url: str) -> None:
    """Locally only the simulator's host and port are allowed, over http."""
    with pytest.raises(MediaRefused):
        check_url(url, LOCAL)
    check_url("http://127.0.0.1:54327/media/a.mp4", LOCAL)


def stream(chunks: list[bytes], max_bytes: int = 100, deadline: float | None = None) -> MediaStream:
    return MediaStream(iter(chunks), "video/mp4", max_bytes, deadline or time.monotonic() + 60)


def test_stream_reads_in_requested_sizes() -> None:
    """read(n) returns at most n bytes and reassembles chunks."""
    media = stream([b"abc", b"defg", b"h"])
    assert media.read(5) == b"abcde"
    assert media.read(-1) == b"fgh"
    assert media.read(5) == b""


def test_stream_stops_at_the_size_limit() -> None:
    """The limit is enforced as bytes arrive, not after the download."""
    media = stream([b"x" * 60, b"x" * 60], max_bytes=100)
    with pytest.raises(MediaRefused) as caught:
        media.read(-1)
    assert caught.value.code == "media_too_large"


def test_stream_stops_at_the_deadline() -> None:
    """A download past its deadline is a transient failure."""
    media = stream([b"x"], deadline=time.monotonic() - 1)
    with pytest.raises(MediaUnavailable):
        media.read(1)
