"""The canvas page as the browser tests drive it: sign in, open a project, generate, look at a node."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Locator, Page, WebSocket, expect

# Generation in the local stack takes a second or two plus any delay the prompt asks for.
GENERATION_TIMEOUT_MS = 20_000
# supabase-js retries a lost socket after 1, 2, 5 and then every 10 seconds.
RECONNECT_TIMEOUT_MS = 25_000


class CanvasPage:
    """One tab of the canvas page, remembering the Realtime frames it sent and its uncaught errors."""

    def __init__(self, page: Page, studio_url: str, artifacts: Path, test_name: str) -> None:
        self.page = page
        self.studio_url = studio_url
        self.artifacts = artifacts
        self.test_name = test_name
        self.sent_frames: list[str] = []
        self.errors: list[str] = []
        page.on("websocket", self._record)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _record(self, socket: WebSocket) -> None:
        socket.on("framesent", lambda frame: self.sent_frames.append(str(frame)))

    def sign_in(self, email: str) -> None:
        """Sign in from the page's list of local users."""
        self.page.goto(f"{self.studio_url}/#/")
        self.page.get_by_role("button", name=f"Sign in as {email}").click()
        expect(self.page.get_by_role("heading", name="Your projects")).to_be_visible()

    def open_project(self, project_id: str, fetched: bool = True) -> None:
        """Go to a project and wait until its channel is subscribed (and, by default, the project fetched)."""
        self.page.goto(f"{self.studio_url}/#/project/{project_id}")
        self.wait_live()
        if fetched:
            expect(self.page.locator("h1")).not_to_have_text("Loading…")

    def wait_live(self, timeout: float = 5_000) -> None:
        """Wait until the open project's Realtime channel is subscribed."""
        expect(self.page.locator("#live")).to_have_attribute("data-status", "SUBSCRIBED", timeout=timeout)

    def node(self, node_id: str) -> Locator:
        """Return the card of one node."""
        return self.page.locator(f'.node[data-node-id="{node_id}"]')

    def generate(self, node_id: str, prompt: str) -> None:
        """Type a prompt into a node and press Generate."""
        card = self.node(node_id)
        card.get_by_label("Prompt").fill(prompt)
        card.get_by_role("button", name="Generate").click()

    def expect_loading(self, node_id: str) -> None:
        """Assert the node shows its spinner."""
        expect(self.node(node_id)).to_have_attribute("data-state", "loading")
        expect(self.node(node_id).get_by_role("progressbar")).to_be_visible()

    def expect_video(self, node_id: str) -> Locator:
        """Wait until the node shows its generated video, without a spinner; return the video."""
        card = self.node(node_id)
        expect(card).to_have_attribute("data-state", "completed", timeout=GENERATION_TIMEOUT_MS)
        expect(card.get_by_role("progressbar")).to_be_hidden()
        video = card.locator("video")
        expect(video).to_be_visible()
        return video

    def expect_toast(self, text: str, timeout: float = GENERATION_TIMEOUT_MS) -> None:
        """Wait until a toast with this text shows."""
        expect(self.page.locator("#toasts .toast", has_text=text)).to_be_visible(timeout=timeout)

    def screenshot(self, state: str) -> None:
        """Save the page as test-artifacts/browser/<test>-<state>.png."""
        self.page.screenshot(path=self.artifacts / f"{self.test_name}-{state}.png", full_page=True)

    def left_channel(self, project_id: str) -> bool:
        """Tell whether the page sent Realtime a leave for this project's channel."""
        topic = f"realtime:project:{project_id}"
        return any("phx_leave" in frame and topic in frame for frame in self.sent_frames)
