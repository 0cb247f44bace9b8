"""`canvasgen`: the command-line tool (local stack, generations, watching a project)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from canvasgen_client import apidoc, benchcommands, deploy, devcommands, faultcommands, livecommands

Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="canvasgen", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    devcommands.register(commands)
    livecommands.register(commands)
    faultcommands.register(commands)
    deploy.register(commands)
    apidoc.register(commands)
    benchcommands.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line."""
    args = build_parser().parse_args(argv)
    handler: Command = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
