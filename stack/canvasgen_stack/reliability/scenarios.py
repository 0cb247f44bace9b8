"""The fault scenarios. Each breaks one thing on the real stack and returns what ended stuck or lost."""

from __future__ import annotations

import copy
import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from canvasgen_stack import cluster, supervisor
from canvasgen_stack.reliability.harness import Harness, Tally, count, settle, wait_until

Scenario = Callable[[Harness], Tally]


def duplicated_deliveries(h: Harness) -> Tally:
    """Every webhook is delivered three times."""
    project, node_ids = h.canvas(4)
    for node_id in node_ids:
        h.submit(project, node_id, "twice over [sim:duplicate=3]").raise_for_status()
    return count(Tally(), settle(h, project, 60), node_ids)


def late_and_out_of_order(h: Harness) -> Tally:
    """A cancelled generation's result lands after the newer generation's, which must stay on the node."""
    project, node_ids = h.canvas(3)
    newer, older = {}, []
    for node_id in node_ids:
        older.append(h.submit(project, node_id, "older [sim:ignore_cancel,delay=3]").json()["jobId"])
        h.api.post("/cancel", json={"projectId": project, "nodeId": node_id}).raise_for_status()
        newer[node_id] = h.submit(project, node_id, "newer").json()["jobId"]
    settle(h, project, 60)
    recorded = "select count(*) from public.generation_jobs where id = any(%s) and result is not null"
    wait_until(lambda: h.scalar(recorded, (older,)) == len(older), 30)
    nodes = h.nodes(project)
    tally = count(Tally(), nodes, node_ids)
    tally.lost += sum(newer[n] not in nodes[n].get("generated", {}).get("url", newer[n]) for n in node_ids)
    return tally


def webhooks_with_stale_autosaves(h: Harness, nodes: int = 100, saves: int = 50) -> Tally:
    """100 webhooks land on one canvas while a client autosaves 50 times from a copy that never sees them."""
    project, node_ids = h.canvas(nodes)
    loaded = h.content(project)
    tally = Tally(edits=saves)

    def autosave() -> None:
        client_copy, base = copy.deepcopy(loaded["content"]), loaded["version"]
        for index in range(saves):
            client_copy["nodes"][index * 2 % nodes]["position"] = {"x": 1000 + index, "y": index}
            response = h.api.post(
                "/save", json={"projectId": project, "content": client_copy, "baseVersion": base}
            )
            if response.status_code != 200:
                tally.notes.append(f"save {index}: {response.status_code} {response.text[:120]}")
                continue
            base = response.json()["version"]
            time.sleep(0.05)

    with ThreadPoolExecutor(max_workers=9) as pool:
        saver = pool.submit(autosave)
        answers = list(pool.map(lambda n: h.submit(project, n, "crowd [sim:delay=1]"), node_ids))
        saver.result()
    tally.notes += [f"submit {a.status_code}" for a in answers if a.status_code != 202]
    stored = settle(h, project, 120)
    positions = {n["id"]: n.get("position") for n in h.content(project)["content"]["nodes"]}
    for index in range(saves):
        node_id = node_ids[index * 2 % nodes]
        tally.edits_lost += positions[node_id] != {"x": 1000 + index, "y": index}
    return count(tally, stored, node_ids)


def dropped_webhooks(h: Harness) -> Tally:
    """No webhook ever arrives; reconciliation finishes every generation."""
    project, node_ids = h.canvas(5)
    request_ids = [h.submit(project, n, "silence [sim:drop]").json()["requestId"] for n in node_ids]
    wait_until(lambda: set(h.provider_states(request_ids)) == {"COMPLETED"}, 60)
    h.age_jobs(project, h.settings.reconcile_after_seconds + 1)
    h.reconcile()
    return count(Tally(), settle(h, project, 30), node_ids)


def provider_never_answers(h: Harness) -> Tally:
    """The provider never finishes; past the timeout the nodes fail instead of spinning forever."""
    project, node_ids = h.canvas(3)
    for node_id in node_ids:
        h.submit(project, node_id, "forever [sim:never_complete]").raise_for_status()
    h.age_jobs(project, h.settings.job_timeout_seconds + 1)
    h.reconcile()
    return count(Tally(), settle(h, project, 30), [], tuple(node_ids))


def provider_down_at_submit(h: Harness) -> Tally:
    """The provider answers 500, then is not there at all; nodes fail, then generate once it is back."""
    project, node_ids = h.canvas(2)
    tally = Tally()
    h.set_faults({"submit_status": 500})
    refused = h.submit(project, node_ids[0])
    h.set_faults({})
    supervisor.stop_service(h.settings, "fal")
    try:
        unreachable = h.submit(project, node_ids[1])
    finally:
        supervisor.restart_service(h.settings, "fal")
    tally.notes += [
        f"expected 503, got {r.status_code}" for r in (refused, unreachable) if r.status_code != 503
    ]
    count(tally, h.nodes(project), [], tuple(node_ids))
    for node_id in node_ids:
        h.submit(project, node_id, "second try").raise_for_status()
    return count(tally, settle(h, project, 60), node_ids)


def storage_outage(h: Harness) -> Tally:
    """Storage is down when the webhooks land; fal's retries complete every node once it is back."""
    project, node_ids = h.canvas(3)
    supervisor.stop_service(h.settings, "storage")
    try:
        request_ids = [h.submit(project, n, "outage").json()["requestId"] for n in node_ids]
        wait_until(lambda: all(s == "COMPLETED" for s in h.provider_states(request_ids)), 60)
        time.sleep(1.0)
    finally:
        supervisor.start_named(h.settings, "storage")
    return count(Tally(), settle(h, project, 90), node_ids)


def database_restart(h: Harness) -> Tally:
    """PostgreSQL restarts in the middle of a burst of webhooks; every job still ends completed."""
    project, node_ids = h.canvas(20)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda n: h.submit(project, n, "burst [sim:delay=1]").raise_for_status(), node_ids))
    time.sleep(1.2)
    cluster.stop(h.settings, mode="fast")
    time.sleep(1.0)
    cluster.start(h.settings)
    h.reconnect_db()
    return count(Tally(), settle(h, project, 120), node_ids)


def killed_before_bookkeeping(h: Harness) -> Tally:
    """The function dies after fal accepted the job: the webhook still completes it, or reconcile ends it."""
    project, node_ids = h.canvas(2)
    prompts = {node_ids[0]: "crash [sim:submit_delay=2]", node_ids[1]: "crash [sim:submit_delay=2,drop]"}
    with ThreadPoolExecutor(max_workers=2) as pool:
        pending = [pool.submit(h.submit, project, n, p) for n, p in prompts.items()]
        jobs = "select count(*) from public.generation_jobs where project_id = %s"
        wait_until(lambda: h.scalar(jobs, (project,)) == 2, 10)
        time.sleep(0.3)
        pid = supervisor.running_pid(h.settings, "functions")
        if pid is not None:
            os.killpg(pid, signal.SIGKILL)
        [future.exception() for future in pending]
    supervisor.start_named(h.settings, "functions")
    wait_until(lambda: "generated" in h.nodes(project)[node_ids[0]], 60)
    h.age_jobs(project, h.settings.reconcile_after_seconds + 1)
    h.reconcile()
    return count(Tally(), settle(h, project, 30), [node_ids[0]], (node_ids[1],))


SCENARIOS: dict[str, Scenario] = {
    "duplicated webhook deliveries (x3)": duplicated_deliveries,
    "late and out-of-order deliveries, after a cancel": late_and_out_of_order,
    "100 concurrent webhooks + 50 stale autosaves": webhooks_with_stale_autosaves,
    "dropped webhooks, finished by reconcile": dropped_webhooks,
    "provider never answers: timeout": provider_never_answers,
    "provider down or answering 500 at submit": provider_down_at_submit,
    "storage down during the webhook, then back": storage_outage,
    "PostgreSQL restarted during a burst of webhooks": database_restart,
    "function killed between provider and bookkeeping": killed_before_bookkeeping,
}
