"""`canvasgen openapi`: write the functions' OpenAPI description to `docs/openapi.json`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from canvasgen import openapi
from canvasgen_stack.config import PROJECT_ROOT

DOCUMENT = PROJECT_ROOT / "docs" / "openapi.json"


def render() -> str:
    """Return the document as the checked-in file holds it."""
    return json.dumps(openapi.document(), indent=2, ensure_ascii=False) + "\n"


def register(commands: Any) -> None:
    """Add the `openapi` command."""
    command = commands.add_parser("openapi", help="write the functions' OpenAPI document")
    command.add_argument(
        "--output", type=Path, default=DOCUMENT, help=f"where to write it (default {DOCUMENT})"
    )
    command.add_argument("--check", action="store_true", help="fail when the file is not current")
    command.set_defaults(handler=_openapi)


def _openapi(args: argparse.Namespace) -> int:
    text = render()
    output: Path = args.output
    if args.check:
        if not output.is_file() or output.read_text() != text:
            print(f"canvasgen openapi: {output} is not current; run `canvasgen openapi`", file=sys.stderr)
            return 1
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    print(f"wrote {output}")
    return 0
