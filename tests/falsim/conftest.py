"""Fixtures for the fal simulator tests: the simulator and a webhook receiver, both on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from .support import Receiver, Server, Sim, bound_socket, serve_sim


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    """A webhook receiver shared by the whole run (reset before each test)."""
    recorder = Receiver()
    app = Starlette(routes=[Route("/{name:path}", recorder.endpoint, methods=["POST"])])
    with Server(app, bound_socket()) as server:
        recorder.url = server.url
        yield recorder


@pytest.fixture(scope="session")
def sim_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A simulator with short delays, shared by the whole run."""
    with serve_sim(tmp_path_factory.mktemp("falsim")) as server:
        yield server


@pytest.fixture
def sim(sim_server: Server, receiver: Receiver) -> Iterator[Sim]:
    """The shared simulator, reset, with a client."""
    receiver.reset()
    with httpx.Client(trust_env=False, timeout=30) as http:
        http.post(f"{sim_server.url}/_sim/reset").raise_for_status()
        yield Sim(sim_server.url, http)
