"""The local canvas page: the reference client in `web/`, supabase-js from node_modules, local sign-in.

/                         the page (web/index.html and its modules)
/vendor/supabase-js/      supabase-js's self-contained browser build, from node_modules (no CDN)
/local/config             {apiUrl, anonKey}: where the page finds the gateway
/local/users              the users of `auth.users`, to choose whom to sign in as
/local/token              POST {email}: an access token for that user, signed with the local secret
/local/projects           the caller's projects, read under row level security
/health                   liveness

Everything under /local exists only in the local stack. In production Supabase Auth issues the tokens
and a front end lists projects with supabase-js (`from('projects').select()` through PostgREST).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import jwt
import psycopg
import uvicorn
from psycopg.rows import dict_row
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from canvasgen_stack.config import PROJECT_ROOT, StackSettings
from canvasgen_stack.services import NODE_MODULES

WEB_DIR = PROJECT_ROOT / "web"
SUPABASE_JS_DIR = NODE_MODULES / "@supabase" / "supabase-js" / "dist" / "umd"
TOKEN_LIFETIME_SECONDS = 24 * 3600
# The same query under the caller's claims as PostgREST would run it: RLS decides what is listed.
LIST_PROJECTS = "select id, name, updated_at from public.projects order by updated_at desc, name"


class PageFiles(StaticFiles):
    """Static files that the browser revalidates each time, so an edited page shows on reload."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


def create_app(settings: StackSettings) -> Starlette:
    """Build the page server for a local stack."""

    async def config(request: Request) -> Response:
        return JSONResponse({"apiUrl": settings.api_url, "anonKey": settings.anon_key})

    async def users(request: Request) -> Response:
        async with await psycopg.AsyncConnection.connect(settings.database_url, row_factory=dict_row) as conn:
            cursor = await conn.execute("select id, email from auth.users order by email")
            rows = await cursor.fetchall()
        return JSONResponse([{"id": str(row["id"]), "email": row["email"]} for row in rows])

    async def token(request: Request) -> Response:
        body = await _json_body(request)
        email = body.get("email") if isinstance(body, dict) else None
        if not isinstance(email, str):
            return _error(400, "validation_failed", 'send {"email": ...}')
        async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
            cursor = await conn.execute("select id from auth.users where email = %s", (email,))
            row = await cursor.fetchone()
        if row is None:
            return _error(404, "user_not_found", "no such local user")
        user_id = str(row[0])
        access_token = settings.user_token(user_id, email, TOKEN_LIFETIME_SECONDS)
        return JSONResponse({"accessToken": access_token, "user": {"id": user_id, "email": email}})

    async def projects(request: Request) -> Response:
        claims = _claims(request, settings.jwt_secret)
        if claims is None:
            return _error(401, "invalid_token", "send a valid access token")
        async with await psycopg.AsyncConnection.connect(settings.database_url, row_factory=dict_row) as conn:
            await conn.execute("set local role authenticated")
            await conn.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
            cursor = await conn.execute(LIST_PROJECTS)
            rows = await cursor.fetchall()
        listed = [
            {"id": str(row["id"]), "name": row["name"], "updatedAt": row["updated_at"].isoformat()}
            for row in rows
        ]
        return JSONResponse(listed)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    routes = [
        Route("/health", health),
        Route("/local/config", config),
        Route("/local/users", users),
        Route("/local/token", token, methods=["POST"]),
        Route("/local/projects", projects),
        Mount("/vendor/supabase-js", StaticFiles(directory=SUPABASE_JS_DIR)),
        Mount("/", PageFiles(directory=WEB_DIR, html=True)),
    ]
    return Starlette(routes=routes)


def _claims(request: Request, secret: str) -> dict[str, Any] | None:
    """Return the verified claims of the request's bearer token, or None."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value:
        return None
    try:
        claims: dict[str, Any] = jwt.decode(value, secret, algorithms=["HS256"], audience="authenticated")
    except jwt.InvalidTokenError:
        return None
    return claims


async def _json_body(request: Request) -> object:
    try:
        return await request.json()
    except ValueError:
        return None


def _error(status: int, code: str, message: str) -> Response:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def main() -> None:
    """Run the page server."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.parse_args()
    settings = StackSettings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.studio_port, log_level="warning")


if __name__ == "__main__":
    main()
