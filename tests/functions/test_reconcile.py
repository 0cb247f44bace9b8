"""reconcile: generations whose webhook never came are finished, failed or timed out, exactly once."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from canvasgen_stack.config import StackSettings
from tests.functions.test_webhook import completed, start
from tests.support import Canvas, Conn, FalSimulator, User, create_canvas, job_row, node_data, wait_for
from tests.unit.jwks import serve_jwks
from tests.unit.test_oidc import ACCOUNT, AUDIENCE, google_jwks, id_token


def reconcile(api: httpx.Client, stack: StackSettings) -> dict[str, Any]:
    response = api.post("/reconcile", headers={"Authorization": f"Bearer {stack.service_role_key}"})
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    assert set(report) == {"checked", "completed", "failed", "stillPending"}
    return report


def provider_done(fal: FalSimulator, request_id: str) -> None:
    wait_for(lambda: fal.request(request_id)["state"] in ("COMPLETED", "FAILED"))


def age(db: Conn, job_id: str, seconds: float) -> None:
    """Make a job look older than it is."""
    db.execute(
        "update public.generation_jobs set created_at = created_at - make_interval(secs => %s),"
        " checked_at = null where id = %s",
        (seconds, job_id),
    )


def test_reconcile_is_for_the_service_role_only(api: httpx.Client, alice: User, stack: StackSettings) -> None:
    """No token answers 401, a user's token 403, the service role 200."""
    assert api.post("/reconcile").status_code == 401
    assert api.post("/reconcile", headers=alice.headers).status_code == 403
    assert api.post("/reconcile", headers={"Authorization": f"Bearer {stack.anon_key}"}).status_code == 403
    reconcile(api, stack)


def test_a_dropped_webhook_is_completed_by_reconcile(
    api: httpx.Client, db: Conn, alice: User, project: Canvas, fal: FalSimulator, stack: StackSettings
) -> None:
    """When fal completed but its webhook was lost, reconcile finishes the node as the webhook would."""
    answer = start(api, alice, project, prompt="lost [sim:drop]")
    provider_done(fal, answer["requestId"])
    age(db, answer["jobId"], 5)
    report = reconcile(api, stack)
    assert report["checked"] >= 1 and report["completed"] >= 1
    data = node_data(db, project.id, "video-1")
    assert completed(data) and "status" not in data and "requestId" not in data
    assert httpx.head(data["generated"]["url"]).status_code == 200
    fal.redeliver(answer["requestId"])  # the webhook turns up after all: nothing changes
    time.sleep(0.5)
    assert node_data(db, project.id, "video-1") == data


def test_young_jobs_are_left_to_their_webhook(
    api: httpx.Client, db: Conn, alice: User, project: Canvas, fal: FalSimulator, stack: StackSettings
) -> None:
    """A job younger than the threshold is not finished by reconcile, even if the provider is done."""
    answer = start(api, alice, project, prompt="soon [sim:drop]")
    provider_done(fal, answer["requestId"])
    db.execute("update public.generation_jobs set created_at = now() where id = %s", (answer["jobId"],))
    reconcile(api, stack)
    assert job_row(db, answer["jobId"])["status"] == "pending"


def test_model_error_found_by_reconcile_fails_the_node(
    api: httpx.Client, db: Conn, alice: User, project: Canvas, fal: FalSimulator, stack: StackSettings
) -> None:
    """A failed model whose webhook was lost fails the node."""
    answer = start(api, alice, project, prompt="broken [sim:drop,model_error]")
    provider_done(fal, answer["requestId"])
    age(db, answer["jobId"], 5)
    reconcile(api, stack)
    data = node_data(db, project.id, "video-1")
    assert (
        data["status"] == "failed"
        and data["loading"] is False
        and data["error"]["code"] == "generation_failed"
    )


def test_a_job_the_provider_forgot_is_lost(
    api: httpx.Client, db: Conn, alice: User, project: Canvas, fal: FalSimulator, stack: StackSettings
) -> None:
    """A job unknown to the provider fails the node with error code lost."""
    answer = start(api, alice, project, prompt="gone [sim:forget]")
    age(db, answer["jobId"], 5)
    reconcile(api, stack)
    data = node_data(db, project.id, "video-1")
    assert data["error"]["code"] == "lost" and data["loading"] is False


def test_a_provider_that_never_answers_times_out(
    api: httpx.Client, db: Conn, alice: User, project: Canvas, fal: FalSimulator, stack: StackSettings
) -> None:
    """Past the hard timeout the job is cancelled at the provider and the node fails with timeout."""
    answer = start(api, alice, project, prompt="forever [sim:never_complete]")
    age(db, answer["jobId"], 3)
    reconcile(api, stack)
    assert job_row(db, answer["jobId"])["status"] == "pending"
    age(db, answer["jobId"], stack.job_timeout_seconds)
    reconcile(api, stack)
    data = node_data(db, project.id, "video-1")
    assert data["error"]["code"] == "timeout" and data["loading"] is False and "requestId" not in data
    assert fal.request(answer["requestId"])["state"] in ("CANCELLED", "COMPLETED")


def test_a_job_stuck_in_submitting_is_resolved(
    api: httpx.Client, db: Conn, alice: User, project: Canvas, fal: FalSimulator, stack: StackSettings
) -> None:
    """A job whose submit bookkeeping never happened (crash) is failed as lost, never left loading."""
    db.execute(
        "insert into public.generation_jobs"
        " (project_id, node_id, user_id, model, endpoint, input, created_at)"
        " values (%s, 'video-2', %s, 'kling-v2.5-turbo-pro', 'fal-ai/x', '{}', now() - interval '1 minute')",
        (project.id, alice.id),
    )
    db.execute(
        'select public.patch_node_data(%s, \'video-2\', \'{"loading": true, "status": "pending"}\')',
        (project.id,),
    )
    reconcile(api, stack)
    data = node_data(db, project.id, "video-2")
    assert data["loading"] is False and data["status"] == "failed" and data["error"]["code"] == "lost"


def test_queue_position_is_shown_and_written_only_when_it_moves(
    api: httpx.Client, db: Conn, alice: User, fal: FalSimulator, stack: StackSettings
) -> None:
    """While queued the node shows queuePosition, rewritten only when it moves, and dropped on completion."""
    canvas = create_canvas(db, alice.id, video_nodes=2, image_nodes=0)
    first = start(api, alice, canvas, node_id="video-1", prompt="ahead [sim:queued=3]")
    start(api, alice, canvas, node_id="video-2", prompt="behind [sim:queued=6]")

    def version() -> Any:
        return db.execute("select version from public.projects where id = %s", (canvas.id,)).fetchone()

    def round_now() -> None:
        db.execute("update public.generation_jobs set checked_at = null where project_id = %s", (canvas.id,))
        reconcile(api, stack)

    round_now()
    assert node_data(db, canvas.id, "video-2")["queuePosition"] == 1
    before = version()
    round_now()
    assert version() == before
    wait_for(lambda: fal.request(first["requestId"])["state"] != "IN_QUEUE")
    round_now()
    assert node_data(db, canvas.id, "video-2")["queuePosition"] == 0
    data = wait_for(lambda: completed(d := node_data(db, canvas.id, "video-2")) and d, timeout=30)
    assert "queuePosition" not in data


def test_two_reconcilers_and_the_webhook_finish_each_job_once(
    api: httpx.Client, db: Conn, alice: User, fal: FalSimulator, stack: StackSettings
) -> None:
    """Reconcile twice at once while webhooks land: every job ends completed, each node written once."""
    canvas = create_canvas(db, alice.id, video_nodes=6, image_nodes=0)
    answers = [
        start(api, alice, canvas, node_id=n, prompt="race [sim:delay=1]") for n in canvas.node_ids("video")
    ]
    for answer in answers:
        provider_done(fal, answer["requestId"])
        age(db, answer["jobId"], 5)
    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(lambda _: reconcile(api, stack), range(2)))
    for node_id in canvas.node_ids("video"):
        wait_for(lambda n=node_id: completed(node_data(db, canvas.id, n)))
    time.sleep(1.5)
    assert sum(r["completed"] for r in reports) <= 6
    rows = db.execute(
        "select status::text as status from public.generation_jobs where project_id = %s", (canvas.id,)
    ).fetchall()
    assert [r["status"] for r in rows] == ["completed"] * 6
    # Per node: pending, request id, completed; a second completion would add more versions.
    version = db.execute("select version from public.projects where id = %s", (canvas.id,)).fetchone()
    assert version == {"version": 1 + 6 * 3}


def test_the_scheduler_calls_with_its_google_identity(in_process: Any, stack: StackSettings) -> None:
    """With a scheduler account configured, its OIDC token is accepted, another account's refused (403)."""
    with serve_jwks(google_jwks, "/oauth2/v3/certs") as google:
        client = in_process(
            "reconcile",
            scheduler_service_account=ACCOUNT,
            scheduler_audience=AUDIENCE,
            google_jwks_url=google.url,
        )
        accepted = client.post("/", headers={"Authorization": id_token()})
        assert accepted.status_code == 200 and set(accepted.json) == {
            "checked",
            "completed",
            "failed",
            "stillPending",
        }
        other = client.post("/", headers={"Authorization": id_token(email="someone@example.com")})
        assert other.status_code == 403 and other.json["error"]["code"] == "service_account_required"
        service = client.post("/", headers={"Authorization": f"Bearer {stack.service_role_key}"})
        assert service.status_code == 200
