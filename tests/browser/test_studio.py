"""The local page server: the page, supabase-js, and the local-only sign-in and project listing."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from canvasgen_stack.config import StackSettings
from tests.support import Canvas, User


@pytest.fixture
def studio(stack: StackSettings) -> Iterator[httpx.Client]:
    """An HTTP client of the page server."""
    with httpx.Client(base_url=stack.studio_url, timeout=10.0) as client:
        yield client


def test_config_points_the_page_at_this_stack(studio: httpx.Client, stack: StackSettings) -> None:
    """The page learns the gateway's URL and the anon key from the server, never from its own code."""
    assert studio.get("/local/config").json() == {"apiUrl": stack.api_url, "anonKey": stack.anon_key}


def test_page_and_supabase_js_are_served_locally(studio: httpx.Client) -> None:
    """The page and supabase-js's browser build come from the page server itself."""
    assert "/vendor/supabase-js/supabase.js" in studio.get("/").text
    script = studio.get("/vendor/supabase-js/supabase.js")
    assert script.status_code == 200
    assert "createClient" in script.text


def test_token_signs_in_a_local_user(studio: httpx.Client, stack: StackSettings, alice: User) -> None:
    """A token from the page server is accepted by the functions as the chosen user."""
    session = studio.post("/local/token", json={"email": alice.email}).json()
    assert session["user"] == {"id": alice.id, "email": alice.email}
    headers = {"Authorization": f"Bearer {session['accessToken']}"}
    listed = studio.get("/local/projects", headers=headers).json()
    assert listed
    answer = httpx.get(f"{stack.functions_url}/project", params={"id": listed[0]["id"]}, headers=headers)
    assert answer.status_code == 200


def test_token_refuses_an_unknown_user(studio: httpx.Client) -> None:
    """Only users of auth.users can be signed in as."""
    answer = studio.post("/local/token", json={"email": "nobody@example.com"})
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "user_not_found"


def test_projects_are_listed_under_row_level_security(
    studio: httpx.Client, alice: User, bob: User, project: Canvas
) -> None:
    """Each user lists only their own projects; without a valid token nothing is listed."""
    alices = {p["id"] for p in studio.get("/local/projects", headers=alice.headers).json()}
    bobs = {p["id"] for p in studio.get("/local/projects", headers=bob.headers).json()}
    assert project.id in alices
    assert project.id not in bobs
    assert bobs
    assert not alices & bobs
    assert studio.get("/local/projects").status_code == 401
    assert studio.get("/local/projects", headers={"Authorization": "Bearer nonsense"}).status_code == 401
