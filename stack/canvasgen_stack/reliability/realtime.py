"""The Realtime server restarts while a client watches; the client must still report every completion."""

from __future__ import annotations

import asyncio

import httpx

from canvasgen_client.api import CanvasApi
from canvasgen_client.nodestate import NodeCompleted, NodeEvent
from canvasgen_client.watch import ProjectWatcher
from canvasgen_stack import supervisor
from canvasgen_stack.reliability.harness import Harness, Tally, count, settle, wait_until


def realtime_restart(h: Harness) -> Tally:
    """Generations complete while the Realtime server is down; the watching client reports them all."""
    return asyncio.run(_realtime_restart(h))


async def _realtime_restart(h: Harness) -> Tally:
    project, node_ids = h.canvas(3)
    completed: set[str] = set()

    def record(event: NodeEvent) -> None:
        if isinstance(event, NodeCompleted):
            completed.add(event.node_id)

    api = CanvasApi(h.settings.functions_url, h.token)
    watcher = ProjectWatcher(
        realtime_url=f"ws://{h.settings.host}:{h.settings.api_port}/realtime/v1",
        apikey=h.settings.anon_key,
        token=h.token,
        api=api,
        project_id=project,
        on_event=record,
    )
    await watcher.start()
    request_ids = [h.submit(project, n, "while away [sim:drop]").json()["requestId"] for n in node_ids]
    await asyncio.to_thread(wait_until, lambda: set(h.provider_states(request_ids)) == {"COMPLETED"}, 60)
    supervisor.stop_service(h.settings, "gateway")
    try:
        # The scheduler reaches the functions directly while the gateway (and Realtime) is down.
        h.age_jobs(project, h.settings.reconcile_after_seconds + 1)
        headers = {"Authorization": f"Bearer {h.settings.service_role_key}"}
        httpx.post(f"{h.settings.functions_host_url}/functions/v1/reconcile", headers=headers, timeout=120)
    finally:
        supervisor.start_named(h.settings, "gateway")
    await asyncio.to_thread(wait_until, lambda: completed >= set(node_ids), 60)
    await watcher.stop()
    await api.close()
    tally = count(Tally(), settle(h, project, 5), node_ids)
    missed = set(node_ids) - completed
    tally.lost += len(missed)
    tally.notes += [f"client missed {n}" for n in sorted(missed)]
    return tally
