"""A local server for the Supabase Realtime protocol's `postgres_changes`, for the official clients.

Changes come from a logical replication slot decoded by wal2json (`replication`), in commit order.
For each change the live bindings of its table and event are found (`channels`), the change is
rendered in SQL with the subscribers' filters (`rendering`), row level security is checked as each
subscriber's role and claims (`visibility`), and one message per channel is pushed (`payloads`,
`dispatch`). Sockets speak Phoenix's V1 or V2 serializer (`frames`, `connection`).
"""

from canvasgen_stack.realtime.app import create_app
from canvasgen_stack.realtime.server import RealtimeServer

__all__ = ["RealtimeServer", "create_app"]
