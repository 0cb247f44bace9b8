"""Browser fixtures: Debian's chromium driven by Playwright for Python, and signed-in canvas pages."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright

from canvasgen_stack.config import PROJECT_ROOT, StackSettings
from tests.browser.canvas import CanvasPage
from tests.support import FalSimulator, User

# Debian's chromium: browsers cannot be downloaded here, so Playwright never installs its own.
CHROMIUM = "/usr/lib/chromium/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",  # the tests may run as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "browser"
OpenCanvas = Callable[[User], CanvasPage]


# Module scope, not session: while Playwright's sync API runs it marks an event loop as running in this
# thread, and every asyncio test after it in the run would fail until it stops.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless chromium for a test module."""
    playwright = sync_playwright().start()
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
    yield launched
    launched.close()
    playwright.stop()


@pytest.fixture
def open_canvas(
    browser: Browser, stack: StackSettings, fal: FalSimulator, request: pytest.FixtureRequest
) -> Iterator[OpenCanvas]:
    """Open the canvas page signed in as a user (one user's pages are tabs of one context); none may throw.

    Faults of the fal queue are off (`fal`), so only a prompt's own tags change how a generation goes.
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    contexts: dict[str, BrowserContext] = {}
    opened: list[CanvasPage] = []

    def open_(user: User) -> CanvasPage:
        first = user.email not in contexts
        if first:
            contexts[user.email] = browser.new_context(viewport={"width": 1280, "height": 860})
        page = contexts[user.email].new_page()
        canvas = CanvasPage(page, stack.studio_url, ARTIFACTS, request.node.name)
        if first:
            canvas.sign_in(user.email)
        opened.append(canvas)
        return canvas

    yield open_
    for context in contexts.values():
        context.close()
    assert [error for canvas in opened for error in canvas.errors] == []
