"""Generations whose webhook the benchmark delivers itself, so that it knows the moment of each step.

A job submitted with `[sim:drop]` is rendered by the fal simulator but its webhook is never sent;
the benchmark then posts the genuine delivery (signed with the simulator's key) to `fal-webhook`
through the gateway, as fal would, and times it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from canvasgen_bench.stack import ALICE_EMAIL, ALICE_ID
from canvasgen_stack.config import StackSettings
from canvasgen_stack.falsim.signing import Signer, load_signer

FAL_USER = "canvasgen-local-user"


@dataclass(frozen=True)
class Generation:
    """A submitted job: its node, our job id and fal's request id."""

    project_id: str
    node_id: str
    job_id: str
    request_id: str


class Generations:
    """Submit generations as Alice and deliver their webhooks by hand."""

    def __init__(self, settings: StackSettings) -> None:
        self._settings = settings
        self._client = httpx.Client(timeout=httpx.Timeout(900.0, connect=10.0))
        self._token = settings.user_token(ALICE_ID, ALICE_EMAIL, 24 * 3600)
        self._signer: Signer = load_signer(settings.path("falsim") / "webhook-signing-key.pem")

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    def submit(self, project_id: str, node_id: str, prompt: str, model: str = "flux-dev") -> Generation:
        """Submit a generation through the `submit` function; fail loudly unless it is accepted."""
        body: dict[str, Any] = {"projectId": project_id, "nodeId": node_id, "model": model, "prompt": prompt}
        if model.startswith("kling"):
            body |= {"duration": 5, "aspectRatio": "16:9"}
        response = self._client.post(
            f"{self._settings.functions_url}/submit",
            json=body,
            headers={"Authorization": f"Bearer {self._token}"},
        )
        if response.status_code != 202:
            msg = f"submit answered {response.status_code}: {response.text[:300]}"
            raise RuntimeError(msg)
        answer = response.json()
        return Generation(project_id, node_id, answer["jobId"], answer["requestId"])

    def output(self, generation: Generation, timeout: float = 120.0) -> Any:
        """Wait until the simulator has finished the job; return the model output it would deliver."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self._client.get(f"{self._settings.fal_url}/_sim/requests/{generation.request_id}").json()
            if job["state"] == "COMPLETED":
                return job["output"]
            time.sleep(0.1)
        msg = f"fal did not finish {generation.request_id} within {timeout:.0f} s"
        raise RuntimeError(msg)

    def delivery(self, generation: Generation, output: Any) -> tuple[str, bytes, dict[str, str]]:
        """Build fal's signed delivery of `output`: the URL, the body and the headers."""
        body = json.dumps(
            {
                "request_id": generation.request_id,
                "gateway_request_id": generation.request_id,
                "status": "OK",
                "payload": output,
                "error": None,
            }
        ).encode()
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Fal-Webhook-Request-Id": generation.request_id,
            "X-Fal-Webhook-User-Id": FAL_USER,
            "X-Fal-Webhook-Timestamp": stamp,
            "X-Fal-Webhook-Signature": self._signer.sign(generation.request_id, FAL_USER, stamp, body),
        }
        return f"{self._settings.functions_url}/fal-webhook?job={generation.job_id}", body, headers

    def deliver(self, generation: Generation, output: Any) -> httpx.Response:
        """Post the delivery as fal does; fail loudly unless the node was completed."""
        url, body, headers = self.delivery(generation, output)
        response = self._client.post(url, content=body, headers=headers)
        if response.status_code != 200 or response.json().get("outcome") != "completed":
            msg = f"fal-webhook answered {response.status_code}: {response.text[:300]}"
            raise RuntimeError(msg)
        return response
