"""Projects (canvases) as their owners see them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from canvasgen.database import Connection
from canvasgen.errors import NotFound


@dataclass(frozen=True)
class Project:
    """One row of `public.projects`."""

    id: UUID
    user_id: UUID
    name: str
    content: dict[str, Any]
    version: int
    edited_version: int
    updated_at: datetime


def get_owned(conn: Connection, project_id: UUID, user_id: UUID, *, lock: bool = False) -> Project:
    """Return the caller's project, row-locked if asked; a missing and another user's project look alike."""
    row = conn.execute(
        "select id, user_id, name, content, version, edited_version, updated_at from public.projects"
        " where id = %s and user_id = %s" + (" for update" if lock else ""),
        (project_id, user_id),
    ).fetchone()
    if row is None:
        msg = "project not found"
        raise NotFound(msg, code="project_not_found")
    return Project(**row)
