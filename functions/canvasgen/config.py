"""Settings of the functions, read once from the environment (pydantic-settings).

Every variable is prefixed `CANVASGEN_`; the README lists them. Secrets are `SecretStr`, so they never
reach a log line or an error body by accident.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

GIB = 1024**3


class Settings(BaseSettings):
    """Configuration of one deployment of the functions."""

    model_config = SettingsConfigDict(env_prefix="CANVASGEN_", extra="ignore")

    # Supabase's pooler in transaction mode cannot keep server-side prepared statements.
    database_url: SecretStr
    database_prepared_statements: bool = False
    database_pool_size: int = Field(default=4, ge=1)
    database_timeout_seconds: float = 10.0

    # User tokens: the project's JWT secret (HS256) or its JWKS URL (asymmetric keys).
    jwt_secret: SecretStr | None = None
    jwks_url: str | None = None
    jwt_audience: str = "authenticated"

    fal_key: SecretStr
    fal_queue_url: str = "https://queue.fal.run"
    fal_jwks_url: str = "https://rest.fal.ai/.well-known/jwks.json"
    provider_timeout_seconds: float = 20.0
    # Public URL of the deployed `fal-webhook` function; the job id is appended as a query parameter.
    webhook_url: str
    webhook_tolerance_seconds: int = 300
    jwks_cache_seconds: int = Field(default=3600, ge=0, le=24 * 3600)

    storage_endpoint_url: str | None = None
    r2_account_id: str | None = None
    storage_region: str = "auto"
    storage_access_key_id: SecretStr
    storage_secret_access_key: SecretStr
    storage_bucket: str
    media_public_base_url: str

    # Hosts the webhook may download media from: `host`, `host:port`, or `.domain` for its subdomains.
    media_hosts: Annotated[list[str], NoDecode] = ["fal.media", ".fal.media", "storage.googleapis.com"]
    # Plain http is for the local stack's simulator only.
    media_allow_http: bool = False
    media_max_bytes: int = Field(default=2 * GIB, ge=1)
    media_timeout_seconds: float = 600.0

    # Cloud Scheduler calls `reconcile` with a Google-signed OIDC token for this account and audience.
    scheduler_service_account: str | None = None
    scheduler_audience: str | None = None
    google_jwks_url: str = "https://www.googleapis.com/oauth2/v3/certs"

    max_body_bytes: int = 64 * 1024
    # Saves carry the whole canvas.
    max_canvas_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    max_canvas_nodes: int = Field(default=10_000, ge=1)

    # Reconciliation: live jobs older than this are checked with the provider; past the timeout they fail.
    reconcile_after_seconds: float = Field(default=120.0, ge=0)
    job_timeout_seconds: float = Field(default=1800.0, gt=0)
    reconcile_batch_size: int = Field(default=200, ge=1)
    # How long a reconciler's claim on a job keeps another from checking it again.
    reconcile_lease_seconds: float = Field(default=20.0, ge=0)
    cors_allow_origin: str = "*"
    google_cloud_project: str | None = Field(default=None, validation_alias="GOOGLE_CLOUD_PROJECT")

    @field_validator("media_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return [host.strip().lower() for host in value.split(",") if host.strip()]
        return value

    @model_validator(mode="after")
    def _check_sources(self) -> Settings:
        if self.jwt_secret is None and self.jwks_url is None:
            msg = "set CANVASGEN_JWT_SECRET or CANVASGEN_JWKS_URL to verify user tokens"
            raise ValueError(msg)
        if self.storage_endpoint_url is None and self.r2_account_id is None:
            msg = "set CANVASGEN_STORAGE_ENDPOINT_URL or CANVASGEN_R2_ACCOUNT_ID"
            raise ValueError(msg)
        return self

    @property
    def storage_endpoint(self) -> str:
        """Return the S3 endpoint: the configured one, or the account's R2 endpoint."""
        if self.storage_endpoint_url:
            return self.storage_endpoint_url
        return f"https://{self.r2_account_id}.r2.cloudflarestorage.com"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the settings from the environment once per process."""
    return Settings()  # type: ignore[call-arg]
