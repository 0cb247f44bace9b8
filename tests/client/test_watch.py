"""watch: the Python client on the official `realtime` library shows every generation, whatever happens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from canvasgen_client.api import CanvasApi
from canvasgen_client.nodestate import NodeCompleted, NodeEvent, NodeFailed, NodeLoading
from canvasgen_client.watch import ProjectWatcher
from canvasgen_stack.config import StackSettings
from tests.support import Canvas, Conn, FalSimulator, User, create_canvas

pytestmark = pytest.mark.anyio


class Window:
    """One client window: a watcher and the events it saw."""

    def __init__(self, watcher: ProjectWatcher) -> None:
        self.watcher = watcher
        self.events: list[NodeEvent] = []
        self.changed = asyncio.Event()

    def record(self, event: NodeEvent) -> None:
        self.events.append(event)
        self.changed.set()

    async def wait_for(self, match: Callable[[NodeEvent], bool], timeout: float = 30.0) -> NodeEvent:
        async def seek() -> NodeEvent:
            while True:
                found = [e for e in self.events if match(e)]
                if found:
                    return found[0]
                self.changed.clear()
                await self.changed.wait()

        return await asyncio.wait_for(seek(), timeout)


@asynccontextmanager
async def window(stack: StackSettings, user: User, project_id: str) -> AsyncIterator[Window]:
    api = CanvasApi(stack.functions_url, user.token)
    holder: list[Window] = []
    watcher = ProjectWatcher(
        realtime_url=f"ws://{stack.host}:{stack.api_port}/realtime/v1",
        apikey=stack.anon_key,
        token=user.token,
        api=api,
        project_id=project_id,
        on_event=lambda event: holder[0].record(event),
    )
    holder.append(Window(watcher))
    await watcher.start()
    await asyncio.wait_for(watcher.subscribed.wait(), 10)
    try:
        yield holder[0]
    finally:
        await watcher.stop()
        await api.close()


async def submit(
    stack: StackSettings, user: User, canvas: Canvas, node_id: str = "video-1", prompt: str = "a lighthouse"
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=stack.functions_url) as client:
        response = await client.post(
            "/submit",
            headers=user.headers,
            json={
                "projectId": canvas.id,
                "nodeId": node_id,
                "model": "kling-v2.5-turbo-pro",
                "prompt": prompt,
            },
        )
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


def loading(node_id: str) -> Callable[[NodeEvent], bool]:
    return lambda e: isinstance(e, NodeLoading) and e.node_id == node_id


def completion(node_id: str) -> Callable[[NodeEvent], bool]:
    return lambda e: isinstance(e, NodeCompleted) and e.node_id == node_id


async def test_reload_during_generation(
    stack: StackSettings, alice: User, project: Canvas, fal: FalSimulator
) -> None:
    """A client created after submit starts loading from the stored state, then receives completion."""
    await submit(stack, alice, project, prompt="reload [sim:delay=2]")
    async with window(stack, alice, project.id) as reloaded:
        await reloaded.wait_for(loading("video-1"), timeout=10)
        done = await reloaded.wait_for(completion("video-1"))
    assert isinstance(done, NodeCompleted) and done.media_type == "video/mp4"
    assert httpx.head(done.url).status_code == 200


async def test_two_windows_see_the_same_generation(
    stack: StackSettings, alice: User, project: Canvas, fal: FalSimulator
) -> None:
    """Two windows both see loading and both receive the same URL."""
    async with window(stack, alice, project.id) as first, window(stack, alice, project.id) as second:
        await submit(stack, alice, project, prompt="twins [sim:delay=1]")
        for each in (first, second):
            await each.wait_for(loading("video-1"))
        urls = [await each.wait_for(completion("video-1")) for each in (first, second)]
    assert isinstance(urls[0], NodeCompleted) and urls[0] == urls[1]


async def test_navigation_away_and_back(
    stack: StackSettings, db: Conn, alice: User, project: Canvas, fal: FalSimulator
) -> None:
    """Leave project A for B and come back: A still shows loading, and its completion arrives."""
    other = create_canvas(db, alice.id)
    async with window(stack, alice, project.id) as on_a:
        await submit(stack, alice, project, prompt="away [sim:delay=3]")
        await on_a.wait_for(loading("video-1"))
    async with window(stack, alice, other.id) as on_b:
        await asyncio.sleep(0.5)
        assert not any(e.node_id == "video-1" and isinstance(e, NodeCompleted) for e in on_b.events)
    async with window(stack, alice, project.id) as back:
        await back.wait_for(loading("video-1"), timeout=10)
        await back.wait_for(completion("video-1"))


async def test_another_user_never_receives_the_project(
    stack: StackSettings, alice: User, bob: User, project: Canvas, fal: FalSimulator
) -> None:
    """Bob subscribed to Alice's project id receives nothing while Alice's window completes."""
    async with window(stack, alice, project.id) as alices:
        bobs_events: list[NodeEvent] = []
        api = CanvasApi(stack.functions_url, bob.token)
        watcher = ProjectWatcher(
            realtime_url=f"ws://{stack.host}:{stack.api_port}/realtime/v1",
            apikey=stack.anon_key,
            token=bob.token,
            api=api,
            project_id=project.id,
            on_event=bobs_events.append,
        )
        await watcher.start()
        await submit(stack, alice, project, prompt="private")
        await alices.wait_for(completion("video-1"))
        await asyncio.sleep(1.0)
        await watcher.stop()
        await api.close()
    assert bobs_events == [] and watcher.version == 0


async def test_oversized_canvas_is_refetched(
    stack: StackSettings, db: Conn, alice: User, fal: FalSimulator
) -> None:
    """Over 1 MiB Realtime sends the reduced record with the 413 error; the client refetches and completes."""
    big = create_canvas(db, alice.id, video_nodes=2, image_nodes=0, extra_nodes=0)
    db.execute(
        "update public.projects set content = jsonb_set(content, '{nodes,0,data,text}', to_jsonb(repeat('x',"
        " 1200000))) where id = %s",
        (big.id,),
    )
    async with window(stack, alice, big.id) as client:
        before = client.watcher.refetches
        await submit(stack, alice, big)
        done = await client.wait_for(completion("video-1"))
        assert isinstance(done, NodeCompleted)
        assert client.watcher.refetches > before


async def test_failure_is_reported(
    stack: StackSettings, alice: User, project: Canvas, fal: FalSimulator
) -> None:
    """A failed generation reaches the client as a failure with the provider's message."""
    async with window(stack, alice, project.id) as client:
        await submit(stack, alice, project, prompt="nope [sim:model_error]")
        failed = await client.wait_for(lambda e: isinstance(e, NodeFailed))
    assert isinstance(failed, NodeFailed) and failed.code == "generation_failed"
