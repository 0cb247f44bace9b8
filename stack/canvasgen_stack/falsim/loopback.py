"""Checks that keep every URL the simulator contacts or points to on this machine."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback_host(host: str) -> bool:
    """Tell whether host names this machine (localhost or a loopback address)."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def loopback_url_problem(url: str) -> str | None:
    """Return why url is not an http(s) URL on a loopback host, or None when it is."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises on a malformed port
    except ValueError as error:
        return f"malformed URL: {error}"
    if parts.scheme not in ("http", "https"):
        return "URL scheme must be http or https"
    if not host:
        return "URL has no host"
    if not is_loopback_host(host):
        return "URL host must be loopback (localhost, 127.0.0.0/8 or ::1)"
    return None
