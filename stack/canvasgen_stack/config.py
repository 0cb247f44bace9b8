"""Settings of the local stack: ports in the Supabase CLI's layout, folders, and the local JWT secret.

Every port can be moved with an environment variable (`CANVASGEN_API_PORT=...`), so that a test run
and `make dev` can share a machine.
"""

from __future__ import annotations

import time
from functools import cached_property
from pathlib import Path

import jwt
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The Supabase CLI's default local secret, so tokens minted here verify as they would under `supabase start`.
LOCAL_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"
# The anon and service-role keys never expire locally, as the CLI's demo keys (`iss: supabase-demo`).
DEMO_KEY_EXPIRY = 1983812996


class StackSettings(BaseSettings):
    """Where the local stack listens and keeps its state."""

    model_config = SettingsConfigDict(env_prefix="CANVASGEN_", extra="ignore")

    host: str = "127.0.0.1"
    api_port: int = 54321
    db_port: int = 54322
    studio_port: int = 54323
    storage_port: int = 54326
    fal_port: int = 54327
    functions_port: int = 54328
    state_dir: Path = PROJECT_ROOT / ".local"
    jwt_secret: str = LOCAL_JWT_SECRET
    bucket: str = "media"
    # The scheduler calls `reconcile` this often (0: never; the tests call it themselves).
    reconcile_interval_seconds: float = 15.0
    reconcile_after_seconds: float = 120.0
    job_timeout_seconds: float = 1800.0

    @property
    def database_url(self) -> str:
        return f"postgresql://postgres:postgres@{self.host}:{self.db_port}/postgres"

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def functions_url(self) -> str:
        return f"{self.api_url}/functions/v1"

    @property
    def realtime_url(self) -> str:
        return f"ws://{self.host}:{self.api_port}/realtime/v1/websocket"

    @property
    def storage_url(self) -> str:
        return f"http://{self.host}:{self.storage_port}"

    @property
    def media_base_url(self) -> str:
        return f"{self.storage_url}/{self.bucket}"

    @property
    def fal_url(self) -> str:
        return f"http://{self.host}:{self.fal_port}"

    @property
    def studio_url(self) -> str:
        return f"http://{self.host}:{self.studio_port}"

    @property
    def functions_host_url(self) -> str:
        return f"http://{self.host}:{self.functions_port}"

    @cached_property
    def anon_key(self) -> str:
        return self.api_key("anon")

    @cached_property
    def service_role_key(self) -> str:
        return self.api_key("service_role")

    def api_key(self, role: str) -> str:
        """Sign the long-lived API key of one role, shaped like the Supabase CLI's demo keys."""
        claims = {"iss": "supabase-demo", "role": role, "exp": DEMO_KEY_EXPIRY}
        return jwt.encode(claims, self.jwt_secret, algorithm="HS256")

    def user_token(self, user_id: str, email: str, lifetime_seconds: int = 3600) -> str:
        """Sign an access token for one user, as Supabase Auth issues them."""
        now = int(time.time())
        claims = {
            "sub": user_id,
            "email": email,
            "role": "authenticated",
            "aud": "authenticated",
            "iat": now,
            "exp": now + lifetime_seconds,
            "session_id": user_id,
        }
        return jwt.encode(claims, self.jwt_secret, algorithm="HS256")

    def path(self, *parts: str) -> Path:
        """Return a path inside the state folder."""
        return self.state_dir.joinpath(*parts)
