"""Benchmark canvases: React Flow documents of a chosen size, inserted straight into `public.projects`."""

from __future__ import annotations

import random
import string
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from canvasgen_bench.stack import ALICE_ID

KINDS = ("video", "image", "text")
ALPHABET = string.ascii_letters + string.digits + "_-"
# Words of prompts, drawn at random so that canvases compress like real ones (about 4:1 with pglz).
PROMPTS = (
    "a slow dolly towards the lighthouse at dawn waves rolling in seagulls circling lamp storm clouds"
    " golden hour close-up portrait of an old fisherman neon city street rain reflections cinematic"
    " wide shot drone flyover forest mist watercolour poster flat colours 35mm film grain product"
    " on marble table soft studio light slow motion splash of water fox running through snow"
)
WORDS = PROMPTS.split()


@dataclass(frozen=True)
class Project:
    """A project made for one benchmark."""

    id: str
    node_ids: tuple[str, ...]


def node(index: int) -> dict[str, Any]:
    """Return one node shaped like those a canvas saves: about 560 bytes of JSON, 20% of it after pglz."""
    draw = random.Random(index)
    kind = KINDS[index % len(KINDS)]
    prompt = " ".join(draw.choice(WORDS) for _ in range(draw.randint(8, 16)))
    return {
        "id": _nanoid(draw),
        "type": kind,
        "position": {"x": round(draw.uniform(-4000, 4000), 3), "y": round(draw.uniform(-4000, 4000), 3)},
        "origin": [0, 0.5],
        "measured": {"width": 320, "height": draw.choice((180, 240, 320))},
        "selected": False,
        "data": {
            "instructions": prompt,
            "model": "kling-v2.5-turbo-pro" if kind == "video" else "flux-dev",
            "duration": 5,
            "aspectRatio": draw.choice(("16:9", "9:16", "1:1")),
            "generated": {
                "url": f"https://media.example.com/generations/{uuid.UUID(int=draw.getrandbits(128))}.mp4",
                "type": "video/mp4" if kind == "video" else "image/png",
            },
            "updatedAt": f"2026-12-0{draw.randint(1, 4)}T{draw.randint(10, 23)}:{draw.randint(10, 59)}:00Z",
        },
    }


def _nanoid(draw: random.Random) -> str:
    return "".join(draw.choice(ALPHABET) for _ in range(21))


def content(nodes: int) -> dict[str, Any]:
    """Return a canvas document with `nodes` nodes, an edge between neighbours and a viewport."""
    items = [node(index) for index in range(nodes)]
    edges = [
        {
            "id": f"xy-edge__{items[i - 1]['id']}-{items[i]['id']}",
            "source": items[i - 1]["id"],
            "target": items[i]["id"],
            "type": "animated",
        }
        for i in range(1, nodes)
    ]
    return {"nodes": items, "edges": edges, "viewport": {"x": 0, "y": 0, "zoom": 1}}


def create(conn: psycopg.Connection[Any], nodes: int, name: str, user_id: str = ALICE_ID) -> Project:
    """Insert a project of `nodes` nodes owned by `user_id`."""
    document = content(nodes)
    project_id = str(uuid.uuid4())
    conn.execute(
        "insert into public.projects (id, user_id, name, content) values (%s, %s, %s, %s)",
        (project_id, user_id, f"bench: {name}", Jsonb(document)),
    )
    return Project(project_id, tuple(item["id"] for item in document["nodes"]))


def delete_all(conn: psycopg.Connection[Any]) -> None:
    """Delete every project a benchmark made (their jobs go with them)."""
    conn.execute("delete from public.projects where name like 'bench: %'")
