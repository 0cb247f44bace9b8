"""The canvas page in a real browser against the local stack: node state survives reloads, windows and
navigation because it is read from the stored canvas and pushed by Realtime."""

from __future__ import annotations

import httpx
import psycopg
from playwright.sync_api import APIResponse, Route, WebSocketRoute, expect
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from canvasgen_stack import supervisor
from canvasgen_stack.config import StackSettings
from canvasgen_stack.services import services
from tests.browser.canvas import RECONNECT_TIMEOUT_MS
from tests.browser.conftest import OpenCanvas
from tests.support import Canvas, User, create_canvas, load_content, node_data, wait_for_node

Db = psycopg.Connection[DictRow]
# Long enough to reload, open a second tab or navigate while the node is still pending.
SLOW = "[sim:delay=3]"
# Realtime carries records up to 1 MiB; a text node this long puts the canvas over it.
GROW_CANVAS = (
    "update public.projects"
    " set content = jsonb_set(content, '{nodes,0,data,text}', to_jsonb(repeat('x', 1200000)))"
    " where id = %s"
)


def submit(stack: StackSettings, user: User, project_id: str, node_id: str, prompt: str) -> None:
    """Start a video generation through the functions, as another client of the canvas would."""
    body = {"projectId": project_id, "nodeId": node_id, "model": "kling-v2.5-turbo-pro", "prompt": prompt}
    answer = httpx.post(f"{stack.functions_url}/submit", json=body, headers=user.headers, timeout=30)
    assert answer.status_code == 202, answer.text


def test_reload_during_generation_keeps_the_spinner(
    open_canvas: OpenCanvas, alice: User, project: Canvas
) -> None:
    """A reload right after Generate shows the spinner from the stored state, then the video on completion."""
    canvas = open_canvas(alice)
    canvas.open_project(project.id)
    canvas.generate("video-1", f"a lighthouse at dawn {SLOW}")
    canvas.expect_loading("video-1")
    canvas.page.reload()
    canvas.wait_live()
    canvas.expect_loading("video-1")
    canvas.screenshot("loading-after-reload")
    canvas.expect_video("video-1")
    canvas.expect_toast("Video generated successfully")
    canvas.screenshot("completed")


def test_two_windows_show_the_same_generation(open_canvas: OpenCanvas, alice: User, project: Canvas) -> None:
    """A generation started in one window shows its spinner and then its video in both."""
    first, second = open_canvas(alice), open_canvas(alice)
    first.open_project(project.id)
    second.open_project(project.id)
    first.generate("video-2", f"two windows, one canvas {SLOW}")
    for window in (first, second):
        window.expect_loading("video-2")
    second.screenshot("second-window-loading")
    for window in (first, second):
        window.expect_video("video-2")
        window.expect_toast("Video generated successfully")
    second.screenshot("second-window-completed")


def test_navigation_returns_to_the_spinner(
    open_canvas: OpenCanvas, alice: User, project: Canvas, db: Db
) -> None:
    """Leaving a generating project removes its channel; coming back shows the spinner, then the video."""
    other = create_canvas(db, alice.id, video_nodes=1, image_nodes=0)
    canvas = open_canvas(alice)
    canvas.open_project(project.id)
    canvas.generate("video-1", f"there and back again {SLOW}")
    canvas.expect_loading("video-1")
    canvas.page.get_by_role("link", name="Projects").click()
    canvas.page.get_by_role("link", name=f"test {other.id[:8]}").click()
    canvas.wait_live()
    expect(canvas.node("video-1")).to_have_attribute("data-state", "idle")
    canvas.screenshot("other-project")
    assert canvas.left_channel(project.id)
    canvas.page.go_back()
    canvas.page.go_back()
    canvas.wait_live()
    canvas.expect_loading("video-1")
    canvas.screenshot("back-loading")
    canvas.expect_video("video-1")
    canvas.screenshot("back-completed")


def test_failed_generation_shows_a_toast_and_no_spinner(
    open_canvas: OpenCanvas, alice: User, project: Canvas, db: Db
) -> None:
    """A generation the model fails ends with the error's toast, the message on the node and no spinner."""
    canvas = open_canvas(alice)
    canvas.open_project(project.id)
    canvas.generate("image-1", "a broken model [sim:model_error]")
    data = wait_for_node(db, project.id, "image-1", lambda d: d.get("status") == "failed")
    message = data["error"]["message"]
    canvas.expect_toast(message)
    card = canvas.node("image-1")
    expect(card).to_have_attribute("data-state", "failed")
    expect(card.get_by_role("progressbar")).to_be_hidden()
    expect(card.locator(".status")).to_have_text(f"Failed: {message}")
    canvas.screenshot("failed")


def test_video_plays_the_stored_media(open_canvas: OpenCanvas, alice: User, project: Canvas, db: Db) -> None:
    """The generated video plays the media stored for its node; a node still generating keeps its spinner."""
    canvas = open_canvas(alice)
    canvas.open_project(project.id)
    canvas.generate("video-1", "a slow one [sim:never_complete]")
    canvas.expect_loading("video-1")
    canvas.generate("video-3", "a playable clip")
    video = canvas.expect_video("video-3")
    stored = node_data(db, project.id, "video-3")["generated"]["url"]
    assert video.get_attribute("src") == stored
    video.evaluate("v => { v.muted = true; return v.play() }")
    canvas.page.wait_for_function(
        "v => v.readyState >= 2 && v.duration > 0 && v.currentTime > 0", arg=video.element_handle()
    )
    state = video.evaluate("v => ({readyState: v.readyState, duration: v.duration})")
    assert state["readyState"] >= 2
    assert state["duration"] > 0
    canvas.expect_loading("video-1")
    canvas.screenshot("playing")


def test_another_user_sees_neither_the_project_nor_its_changes(
    open_canvas: OpenCanvas, alice: User, bob: User, project: Canvas, stack: StackSettings
) -> None:
    """Bob, given Alice's project id, sees no project, no nodes and none of her generation's changes."""
    intruder = open_canvas(bob)
    expect(intruder.page.get_by_role("link", name=f"test {project.id[:8]}")).to_have_count(0)
    intruder.open_project(project.id)
    expect(intruder.page.get_by_role("heading", name="Project not found")).to_be_visible()
    owner = open_canvas(alice)
    owner.open_project(project.id)
    submit(stack, alice, project.id, "video-1", "private")
    owner.expect_video("video-1")
    # Alice's page has had every change; give Bob's, subscribed to the same topic, as long again.
    intruder.page.wait_for_timeout(1000)
    expect(intruder.page.locator(".node")).to_have_count(0)
    expect(intruder.page.get_by_role("heading", name="Project not found")).to_be_visible()
    intruder.screenshot("not-found")


def test_canvas_too_large_for_realtime_is_refetched(
    open_canvas: OpenCanvas, alice: User, project: Canvas, db: Db
) -> None:
    """Changes of a canvas over Realtime's 1 MiB limit come as Error 413; the page refetches to show them."""
    db.execute(GROW_CANVAS, (project.id,))
    canvas = open_canvas(alice)
    fetches: list[str] = []
    canvas.page.on("request", lambda r: fetches.append(r.url) if "/functions/v1/project?" in r.url else None)
    canvas.open_project(project.id)
    expect(canvas.node("video-1")).to_have_attribute("data-state", "idle")
    fetched_before = len(fetches)
    canvas.generate("video-1", "a very large canvas")
    canvas.expect_loading("video-1")
    canvas.expect_video("video-1")
    canvas.expect_toast("Video generated successfully")
    assert len(fetches) > fetched_before


def test_late_refetch_does_not_roll_back(
    open_canvas: OpenCanvas, alice: User, project: Canvas, stack: StackSettings
) -> None:
    """A refetch answered after newer Realtime changes is ignored: the canvas shown never goes back."""
    canvas = open_canvas(alice)
    held: list[tuple[Route, APIResponse]] = []

    def hold_first(route: Route) -> None:
        # Fetch the canvas as it is now, but hand it to the page only later, after newer changes.
        if held:
            route.continue_()
        else:
            held.append((route, route.fetch()))

    canvas.page.route("**/functions/v1/project?*", hold_first)
    canvas.open_project(project.id, fetched=False)
    submit(stack, alice, project.id, "video-1", "newer")
    canvas.expect_video("video-1")
    shown = canvas.page.locator(".version").inner_text()
    route, stale = held[0]
    route.fulfill(response=stale)
    canvas.page.wait_for_timeout(500)
    expect(canvas.node("video-1")).to_have_attribute("data-state", "completed")
    expect(canvas.page.locator(".version")).to_have_text(shown)


def test_resubscribing_refetches_what_was_missed(
    open_canvas: OpenCanvas, alice: User, project: Canvas, stack: StackSettings, db: Db
) -> None:
    """A change made while Realtime was down shows once the channel subscribes again, through a refetch."""
    canvas = open_canvas(alice)
    canvas.open_project(project.id)
    gateway = next(service for service in services(stack) if service.name == "gateway")
    supervisor.stop_service(stack, "gateway")
    try:
        expect(canvas.page.locator("#live")).not_to_have_attribute("data-status", "SUBSCRIBED")
        pending = Jsonb({"loading": True, "status": "pending"})
        db.execute("select public.patch_node_data(%s, 'video-2', %s)", (project.id, pending))
    finally:
        supervisor.start_service(stack, gateway)
    canvas.wait_live(timeout=RECONNECT_TIMEOUT_MS)
    canvas.expect_loading("video-2")
    canvas.screenshot("missed-change-shown")


def test_generate_saves_the_prompt_over_an_unseen_edit(
    open_canvas: OpenCanvas, alice: User, project: Canvas, stack: StackSettings, db: Db
) -> None:
    """Generate saves the typed prompt; if another window saved first, both edits are kept."""
    canvas = open_canvas(alice)
    deaf = {"on": False}

    def drop_changes_when_deaf(socket: WebSocketRoute) -> None:
        # Forward the socket both ways, but lose the pushed changes while `deaf` is on.
        server = socket.connect_to_server()
        socket.on_message(server.send)
        server.on_message(
            lambda m: None if deaf["on"] and ',"postgres_changes",{' in str(m) else socket.send(m)
        )

    canvas.page.route_web_socket("**/realtime/v1/websocket**", drop_changes_when_deaf)
    canvas.page.reload()  # the signed-in page already has its socket; routes apply to new ones
    canvas.open_project(project.id)
    deaf["on"] = True
    content = load_content(db, project.id)
    edited = next(node for node in content["nodes"] if node["id"] == "video-2")
    edited["data"]["instructions"] = "edited in another window"
    body = {"projectId": project.id, "content": content, "baseVersion": 1}
    answer = httpx.post(f"{stack.functions_url}/save", json=body, headers=alice.headers, timeout=30)
    assert answer.status_code == 200, answer.text
    canvas.generate("video-1", "typed here")
    wait_for_node(db, project.id, "video-1", lambda d: "generated" in d)
    assert node_data(db, project.id, "video-1")["instructions"] == "typed here"
    assert node_data(db, project.id, "video-2")["instructions"] == "edited in another window"
