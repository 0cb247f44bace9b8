"""A small HTTP client of the canvasgen functions, for scripts and the command line."""

from __future__ import annotations

from typing import Any

import httpx


class ApiError(RuntimeError):
    """A function answered with an error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{message} ({code}, HTTP {status})")
        self.status, self.code, self.message = status, code, message


class CanvasApi:
    """Call the functions as one signed-in user."""

    def __init__(self, functions_url: str, token: str, client: httpx.AsyncClient | None = None) -> None:
        self._client = client or httpx.AsyncClient(timeout=60.0)
        self._base = functions_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}

    async def project(self, project_id: str) -> dict[str, Any]:
        """Return the project with its canvas and version."""
        return await self._call("GET", "/project", params={"id": project_id})

    async def submit(self, body: dict[str, Any]) -> dict[str, Any]:
        """Start a generation; return `{requestId, jobId, status}`."""
        return await self._call("POST", "/submit", json=body)

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self._client.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = await self._client.request(method, f"{self._base}{path}", headers=self._headers, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 400:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise ApiError(
                response.status_code,
                str(error.get("code", "http_error")),
                str(error.get("message", response.reason_phrase)),
            )
        assert isinstance(body, dict)
        return body
