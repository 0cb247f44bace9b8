"""Fault switches, per job by prompt tag and globally through /_sim/faults."""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path

from .support import Receiver, Sim, verifies

PAYLOAD_ERROR = (
    "Response payload is not JSON serializable. Either return a JSON serializable object "
    "or use the queue endpoint to retrieve the response."
)


def test_model_error_fails_the_job_everywhere(sim: Sim, receiver: Receiver) -> None:
    """model_error: status COMPLETED with error, result 422 detail list, ERROR webhook."""
    job = sim.submitted("a cat [sim:model_error]", webhook=receiver.hook())
    status = sim.wait(job)
    assert status["error"] and status["error_type"]
    result = sim.http.get(job["response_url"])
    assert result.status_code == 422
    detail = result.json()["detail"]
    assert detail[0]["loc"] == ["body", "prompt"] and detail[0]["msg"] and detail[0]["type"]
    body = json.loads(receiver.wait(1)[0].body)
    assert list(body) == ["request_id", "gateway_request_id", "status", "error", "payload"]
    assert (body["status"], body["error"]) == ("ERROR", "Invalid status code: 422")
    assert body["payload"] == {"detail": detail}


def test_null_payload_webhook_but_result_still_served(sim: Sim, receiver: Receiver) -> None:
    """null_payload: the webhook carries payload null and payload_error; the result endpoint works."""
    job = sim.submitted("a cat [sim:null_payload]", webhook=receiver.hook())
    body = json.loads(receiver.wait(1)[0].body)
    assert body == {
        "request_id": job["request_id"],
        "gateway_request_id": job["request_id"],
        "status": "OK",
        "payload": None,
        "payload_error": PAYLOAD_ERROR,
    }
    assert "video" in sim.http.get(job["response_url"]).json()


def test_duplicate_delivers_n_times(sim: Sim, receiver: Receiver) -> None:
    """duplicate=3: the same webhook body arrives three times."""
    sim.submitted("a cat [sim:duplicate=3]", webhook=receiver.hook())
    deliveries = receiver.wait(3)
    time.sleep(0.3)
    assert len(receiver.deliveries) == 3
    assert len({delivery.body for delivery in deliveries}) == 1


def test_drop_never_delivers_but_the_job_completes(sim: Sim, receiver: Receiver) -> None:
    """drop: no webhook; status and result work; admin redelivery sends it late."""
    job = sim.submitted("a cat [sim:drop]", webhook=receiver.hook())
    sim.wait(job)
    assert sim.http.get(job["response_url"]).status_code == 200
    time.sleep(0.5)
    assert receiver.deliveries == []
    sim.http.post(f"{sim.url}/_sim/requests/{job['request_id']}/deliver").raise_for_status()
    assert json.loads(receiver.wait(1)[0].body)["status"] == "OK"


def test_delay_holds_the_webhook_back(sim: Sim, receiver: Receiver) -> None:
    """delay=1: the webhook arrives at least a second after the job completed."""
    job = sim.submitted("a cat [sim:delay=1]", webhook=receiver.hook())
    delivery = receiver.wait(1)[0]
    finished_at = sim.admin(job["request_id"])["finished_at"]
    assert delivery.received_at - finished_at >= 1.0


def test_bad_signature_does_not_verify(sim: Sim, receiver: Receiver) -> None:
    """bad_signature: a well-formed hex signature that fails verification."""
    sim.submitted("a cat [sim:bad_signature]", webhook=receiver.hook())
    delivery = receiver.wait(1)[0]
    assert len(bytes.fromhex(delivery.headers["x-fal-webhook-signature"])) == 64
    assert not verifies(sim.http.get(f"{sim.url}/.well-known/jwks.json").json(), delivery)


def test_stale_timestamp_signs_an_old_timestamp(sim: Sim, receiver: Receiver) -> None:
    """stale_timestamp=600: the timestamp is 10 minutes old yet the signature verifies."""
    sim.submitted("a cat [sim:stale_timestamp=600]", webhook=receiver.hook())
    delivery = receiver.wait(1)[0]
    assert abs(time.time() - 600 - int(delivery.headers["x-fal-webhook-timestamp"])) < 5
    assert verifies(sim.http.get(f"{sim.url}/.well-known/jwks.json").json(), delivery)


def test_slow_media_is_throttled(sim: Sim) -> None:
    """slow_media=20000: 10 kB take about half a second to arrive."""
    job = sim.submitted("a dog [sim:slow_media=20000]")
    sim.wait(job)
    url = sim.http.get(job["response_url"]).json()["video"]["url"]
    started = time.monotonic()
    response = sim.http.get(url, headers={"Range": "bytes=0-9999"})
    elapsed = time.monotonic() - started
    assert len(response.content) == 10000
    assert 0.49 < elapsed < 2.0


def test_large_media_is_padded_and_streamed(sim: Sim, tmp_path: Path) -> None:
    """large_media=512M: served as the real MP4 plus padding, streamed in constant memory."""
    size = 512 * 1024 * 1024
    job = sim.submitted("big [sim:large_media=512M]")
    sim.wait(job)
    video = sim.http.get(job["response_url"]).json()["video"]
    real_size = sim.admin(job["request_id"])["media"][0]["size"]
    assert video["file_size"] == size
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    received, head = 0, b""
    with sim.http.stream("GET", video["url"]) as response:
        assert response.headers["content-length"] == str(size)
        for chunk in response.iter_raw():
            if len(head) < 16:
                head += chunk[:16]
            received += len(chunk)
    assert received == size and head[4:8] == b"ftyp"
    # ru_maxrss is in KiB on Linux: the process must not have grown by anything like the file.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 64 * 1024
    assert all(path.stat().st_size <= real_size for path in tmp_path.parent.rglob("*.mp4"))


def test_large_media_serves_ranges_past_two_gigabytes(sim: Sim) -> None:
    """large_media=3G: a range near the end answers padding without producing the rest."""
    job = sim.submitted("huge [sim:large_media=3G]")
    sim.wait(job)
    url = sim.http.get(job["response_url"]).json()["video"]["url"]
    size = 3 * 1024**3
    response = sim.http.get(url, headers={"Range": f"bytes={size - 1000}-"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {size - 1000}-{size - 1}/{size}"
    assert response.content == bytes(1000)


def test_redirect_answers_302_to_the_given_url(sim: Sim, receiver: Receiver) -> None:
    """redirect=URL: the media URL answers 302 with that Location."""
    target = f"{receiver.url}/elsewhere.mp4"
    job = sim.submitted(f"a cat [sim:redirect={target}]")
    sim.wait(job)
    response = sim.http.get(sim.http.get(job["response_url"]).json()["video"]["url"])
    assert (response.status_code, response.headers["location"]) == (302, target)


def test_redirect_accepts_ipv6_loopback_and_refuses_other_hosts(sim: Sim) -> None:
    """A bracketed ::1 URL is a valid redirect value; a non-loopback host is refused with 422."""
    assert sim.submit("a [sim:redirect=http://[::1]:8080/x.mp4]").status_code == 200
    assert sim.submit("a [sim:redirect=http://example.invalid/x.mp4]").status_code == 422


def test_submit_status_fails_the_submit_without_a_job(sim: Sim) -> None:
    """submit_status=503/422/429 answers that code with a fal-like body and creates no job."""
    unavailable = sim.submit("a cat [sim:submit_status=503]")
    assert unavailable.status_code == 503
    assert unavailable.json()["error_type"] == unavailable.headers["x-fal-error-type"]
    invalid = sim.submit("a cat [sim:submit_status=422]")
    assert invalid.status_code == 422 and isinstance(invalid.json()["detail"], list)
    assert sim.submit("a cat [sim:submit_status=429]").status_code == 429
    assert sim.http.get(f"{sim.url}/_sim/requests").json()["requests"] == []


def test_never_complete_stays_in_progress_until_cancelled(sim: Sim, receiver: Receiver) -> None:
    """never_complete: the job stays IN_PROGRESS; cancel still ends it, without a webhook."""
    job = sim.submitted("a cat [sim:never_complete]", webhook=receiver.hook())
    sim.wait(job, "IN_PROGRESS")
    time.sleep(0.8)
    assert sim.status(job)["status"] == "IN_PROGRESS"
    assert sim.http.put(job["cancel_url"]).status_code == 202
    assert sim.status(job)["status"] == "COMPLETED"
    assert receiver.deliveries == []


def test_forget_makes_the_job_unknown(sim: Sim, receiver: Receiver) -> None:
    """forget: submit succeeds but status, result and cancel answer 404 and nothing is delivered."""
    job = sim.submitted("a cat [sim:forget]", webhook=receiver.hook())
    assert sim.http.get(job["status_url"]).status_code == 404
    assert sim.http.get(job["response_url"]).status_code == 404
    assert sim.http.put(job["cancel_url"]).status_code == 404
    time.sleep(0.8)
    assert receiver.deliveries == []
    assert sim.admin(job["request_id"])["state"] == "FORGOTTEN"


def test_ignore_cancel_completes_and_delivers(sim: Sim, receiver: Receiver) -> None:
    """ignore_cancel: cancel answers 202, yet the job completes and its webhook arrives."""
    job = sim.submitted("a cat [sim:ignore_cancel]", webhook=receiver.hook())
    assert sim.http.put(job["cancel_url"]).status_code == 202
    sim.wait(job)
    assert json.loads(receiver.wait(1)[0].body)["status"] == "OK"


def test_global_faults_apply_to_new_jobs_until_cleared(sim: Sim, receiver: Receiver) -> None:
    """PUT /_sim/faults switches faults on for every new job; a tag overrides them per field."""
    sim.faults(model_error=True, duplicate=2)
    assert sim.http.get(f"{sim.url}/_sim/faults").json()["duplicate"] == 2
    failing = sim.submitted("a cat", webhook=receiver.hook())
    assert sim.http.get(sim.wait(failing)["response_url"]).status_code == 422
    assert len(receiver.wait(2)) == 2
    single = sim.submitted("a cat [sim:duplicate=1]", webhook=receiver.hook("single"))
    sim.wait(single)
    time.sleep(0.3)
    assert [d.path for d in receiver.deliveries].count("/single") == 1
    sim.faults()
    assert sim.http.get(sim.wait(sim.submitted("a cat"))["response_url"]).status_code == 200


def test_global_submit_status_fails_every_submit(sim: Sim) -> None:
    """A global submit_status makes every submit answer that code until cleared."""
    sim.faults(submit_status=500)
    assert [sim.submit("a cat").status_code for _ in range(2)] == [500, 500]
    sim.faults()
    assert sim.submit("a cat").status_code == 200


def test_put_faults_rejects_unknown_or_invalid_switches(sim: Sim) -> None:
    """PUT /_sim/faults answers 422 for unknown names or bad values and keeps the old set."""
    for body in ({"explode": True}, {"duplicate": 0}, {"redirect": "ftp://127.0.0.1/x"}):
        assert sim.http.put(f"{sim.url}/_sim/faults", json=body).status_code == 422
    assert not any(sim.http.get(f"{sim.url}/_sim/faults").json().values())


def test_malformed_tags_reject_the_submit(sim: Sim) -> None:
    """A prompt whose [sim: tag is malformed, unknown or badly valued answers 422."""
    for prompt in ("[sim:bogus]", "[sim:duplicate]", "[sim:drop=1]", "[sim:delay=soon]", "a [sim: drop]"):
        response = sim.submit(prompt)
        assert response.status_code == 422, prompt
        assert response.json()["detail"][0]["loc"] == ["body", "prompt"]


def test_reset_clears_jobs_faults_and_media(sim: Sim) -> None:
    """POST /_sim/reset forgets jobs, clears faults and deletes media; health reports the count."""
    sim.faults(drop=True)
    job = sim.submitted("a cat")
    sim.wait(job)
    url = sim.http.get(job["response_url"]).json()["video"]["url"]
    assert sim.http.get(f"{sim.url}/_sim/health").json()["requests"] == 1
    sim.http.post(f"{sim.url}/_sim/reset").raise_for_status()
    assert sim.http.get(f"{sim.url}/_sim/health").json() == {
        "status": "ok",
        "base_url": sim.url,
        "requests": 0,
    }
    assert sim.http.get(f"{sim.url}/_sim/faults").json()["drop"] is False
    assert sim.http.get(url).status_code == 404
    assert sim.http.get(job["status_url"]).status_code == 404
