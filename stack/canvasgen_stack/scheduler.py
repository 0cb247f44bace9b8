"""Local stand-in for Cloud Scheduler: call `reconcile` with the service-role key on an interval."""

from __future__ import annotations

import json
import signal
import sys
import threading

import httpx

from canvasgen_stack.config import StackSettings


def run(settings: StackSettings, stop: threading.Event) -> None:
    """Call reconcile every interval until `stop` is set; a failed round is logged and retried next time."""
    headers = {"Authorization": f"Bearer {settings.service_role_key}"}
    with httpx.Client(base_url=settings.functions_url, headers=headers, timeout=600.0) as client:
        while not stop.wait(settings.reconcile_interval_seconds):
            try:
                response = client.post("/reconcile")
                entry = {
                    "severity": "INFO",
                    "message": "reconcile round",
                    "status": response.status_code,
                    "report": response.json(),
                }
            except (httpx.HTTPError, ValueError) as exc:
                entry = {"severity": "WARNING", "message": "reconcile round failed", "error": repr(exc)}
            print(json.dumps(entry), flush=True)


def main() -> None:
    """Run the scheduler until SIGTERM or SIGINT."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    run(StackSettings(), stop)
    sys.exit(0)


if __name__ == "__main__":
    main()
