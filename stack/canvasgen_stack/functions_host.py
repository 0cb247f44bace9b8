"""Serve every function of `functions/main.py` on one port, each behind `/functions/v1/<name>`.

Each function is the app functions-framework builds for its entry point, exactly what Cloud
Functions runs; this host only picks the app by the first path segment, as Supabase's functions
runtime does.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterable
from typing import Any

import functions_framework
from werkzeug.serving import make_server

from canvasgen.routes import FUNCTIONS
from canvasgen_stack.config import PROJECT_ROOT

SOURCE = PROJECT_ROOT / "functions" / "main.py"
PREFIX = "/functions/v1"
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class FunctionsHost:
    """A WSGI app that routes `/functions/v1/<name>/...` to the function's own app."""

    def __init__(self) -> None:
        self.apps: dict[str, WsgiApp] = {name: _function_app(entry) for name, entry in FUNCTIONS.items()}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        if path.startswith(PREFIX):
            path = path[len(PREFIX) :]
        name, _, rest = path.lstrip("/").partition("/")
        app = self.apps.get(name)
        if app is None:
            body = json.dumps({"error": {"code": "function_not_found", "message": f"no function {name!r}"}})
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [body.encode()]
        environ["SCRIPT_NAME"] = f"{PREFIX}/{name}"
        environ["PATH_INFO"] = f"/{rest}"
        return app(environ, start_response)


def _function_app(entry_point: str) -> WsgiApp:
    app: WsgiApp = functions_framework.create_app(target=entry_point, source=str(SOURCE))  # type: ignore[no-untyped-call]
    return app


def main() -> None:
    """Run the functions host."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server = make_server(args.host, args.port, FunctionsHost(), threaded=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
