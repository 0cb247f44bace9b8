"""Run the realtime server alone on the API port: `python -m canvasgen_stack.realtime`."""

from __future__ import annotations

import logging

import uvicorn

from canvasgen_stack.config import StackSettings
from canvasgen_stack.realtime.app import create_app

# Supabase Realtime accepts inbound frames up to this size.
MAX_INBOUND_FRAME_BYTES = 5_000_000


def main() -> None:
    """Serve until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = StackSettings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.api_port,
        ws_max_size=MAX_INBOUND_FRAME_BYTES,
        # Supabase (Phoenix) does not compress frames; compressing each message once per socket costs more
        # than it saves on loopback.
        ws_per_message_deflate=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
