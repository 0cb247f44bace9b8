"""Run the simulator: python -m canvasgen_stack.falsim [--host H] [--port P] [--data-dir D]."""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from canvasgen_stack.falsim import logs
from canvasgen_stack.falsim.app import create_app
from canvasgen_stack.falsim.config import FalSimConfig


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m canvasgen_stack.falsim", description=__doc__)
    parser.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 54327)")
    parser.add_argument("--data-dir", type=Path, help="where the signing key and media live")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    options = parser.parse_args(argv)
    overrides = {"host": options.host, "port": options.port, "data_dir": options.data_dir}
    config = FalSimConfig(**{key: value for key, value in overrides.items() if value is not None})
    logs.configure(options.log_level)
    uvicorn.run(
        create_app(config), host=config.host, port=config.port, log_config=None, log_level=options.log_level
    )


if __name__ == "__main__":
    main()
