"""The deployed functions: the name in the URL (`/functions/v1/<name>`) and the entry point in main.py."""

from __future__ import annotations

FUNCTIONS: dict[str, str] = {
    "submit": "submit",
    "fal-webhook": "fal_webhook",
    "project": "project",
    "save": "save",
    "cancel": "cancel",
    "reconcile": "reconcile",
}
