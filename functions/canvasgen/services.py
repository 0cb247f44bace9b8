"""The long-lived clients of one function process, built once from the settings.

Cloud Functions keeps a process warm between requests, so pools and caches live here rather than
in each request. Tests build their own `Services` from explicit settings.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import httpx

from canvasgen import logs
from canvasgen.auth import TokenVerifier
from canvasgen.config import Settings, get_settings
from canvasgen.database import Database
from canvasgen.oidc import ServiceAccountVerifier
from canvasgen.provider import FalQueue
from canvasgen.signatures import WebhookVerifier

if TYPE_CHECKING:
    from canvasgen.storage import MediaStore


@dataclass
class Services:
    """Everything a request handler needs besides the request."""

    settings: Settings
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=20.0))

    @cached_property
    def database(self) -> Database:
        return Database(self.settings)

    @cached_property
    def tokens(self) -> TokenVerifier:
        return TokenVerifier(self.settings)

    @cached_property
    def scheduler(self) -> ServiceAccountVerifier | None:
        s = self.settings
        if s.scheduler_service_account is None or s.scheduler_audience is None:
            return None
        return ServiceAccountVerifier(
            s.scheduler_service_account, s.scheduler_audience, s.google_jwks_url, s.jwks_cache_seconds
        )

    @cached_property
    def provider(self) -> FalQueue:
        return FalQueue(self.settings, self.http)

    @cached_property
    def webhooks(self) -> WebhookVerifier:
        return WebhookVerifier(self.settings, self.http)

    @cached_property
    def store(self) -> MediaStore:
        # boto3 is imported on first use: it was a sixth of importing main.py for every function, and
        # only the webhook and reconciliation store media (docs/profiles/README.md, cold start).
        from canvasgen.storage import MediaStore

        return MediaStore(self.settings)

    def close(self) -> None:
        """Release the pool and the HTTP connections."""
        if "database" in self.__dict__:
            self.database.close()
        self.http.close()


_lock = threading.Lock()
_services: Services | None = None


def get_services() -> Services:
    """Return the process's services, building them on first use."""
    global _services
    with _lock:
        if _services is None:
            logs.configure()
            _services = Services(get_settings())
        return _services


def use_services(services: Services | None) -> None:
    """Make every handler of this process use `services`; None rebuilds them from the environment."""
    global _services
    with _lock:
        _services = services
