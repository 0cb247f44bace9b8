"""Settings of the local fal.ai-compatible queue."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
# Compressed version of fal's "10 attempts over 2 hours": 9 retries after the first attempt.
DEFAULT_RETRY_DELAYS = [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0]


class FalSimConfig(BaseSettings):
    """Every knob of the simulator; each can be set as CANVASGEN_FALSIM_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="CANVASGEN_FALSIM_", extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=54327, ge=0, le=65535)
    data_dir: Path = Path(".local/falsim")
    # Overrides the base URL put into response/status/media URLs (default http://host:port).
    public_url: str | None = None
    queue_delay: float = Field(default=0.2, ge=0)
    processing_delay: float = Field(default=1.0, ge=0)
    webhook_user_id: str = "canvasgen-local-user"
    retry_delays: list[float] = Field(default_factory=lambda: list(DEFAULT_RETRY_DELAYS))
    delivery_timeout: float = Field(default=15.0, gt=0)
    render_concurrency: int = Field(default=2, ge=1)
    render_timeout: float = Field(default=120.0, gt=0)
    font_file: Path = DEFAULT_FONT
    ffmpeg: str = "ffmpeg"

    @property
    def base_url(self) -> str:
        """Return the absolute base URL that clients use to reach this server."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{_url_host(self.host)}:{self.port}"

    @property
    def media_dir(self) -> Path:
        """Return the directory holding rendered media."""
        return self.data_dir / "media"

    @property
    def key_file(self) -> Path:
        """Return the file holding the webhook signing key."""
        return self.data_dir / "webhook-signing-key.pem"


def _url_host(host: str) -> str:
    """Bracket IPv6 literals so they can sit in a URL authority."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    return f"[{host}]" if address.version == 6 else host
