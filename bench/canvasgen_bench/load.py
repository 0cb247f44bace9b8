"""Concurrent callers of one HTTP endpoint, each on its own keep-alive connection, timing every request."""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Outcome:
    """What the callers saw: latencies in ms, statuses, and the wall time of the whole load."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def call(port: int, bodies: list[bytes], headers: dict[str, str], callers: int) -> Outcome:
    """POST every body to `/` on `port`, `callers` at a time; return latencies and statuses."""
    shares = [bodies[index::callers] for index in range(callers)]
    outcome = Outcome()
    lock = threading.Lock()
    start = threading.Barrier(callers + 1)
    errors: list[BaseException] = []

    def caller(share: list[bytes]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[tuple[float, int]] = []
        try:
            start.wait()
            for body in share:
                mine.append(_post(connection, body, headers))
        except BaseException as exc:  # reported by the main thread after the join
            errors.append(exc)
        finally:
            connection.close()
            with lock:
                outcome.latencies += [ms for ms, _ in mine]
                outcome.statuses.update(status for _, status in mine)

    threads = [threading.Thread(target=caller, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    outcome.seconds = time.perf_counter() - began
    if errors:
        raise errors[0]
    return outcome


def _post(connection: http.client.HTTPConnection, body: bytes, headers: dict[str, str]) -> tuple[float, int]:
    began = time.perf_counter()
    try:
        connection.request("POST", "/", body=body, headers=headers)
        response = connection.getresponse()
    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
        # The server closed an idle keep-alive connection: one retry on a new one.
        connection.close()
        began = time.perf_counter()
        connection.request("POST", "/", body=body, headers=headers)
        response = connection.getresponse()
    response.read()
    return (time.perf_counter() - began) * 1000, response.status
