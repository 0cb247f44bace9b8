"""Rendering of real, playable media (H.264 MP4 and PNG) with ffmpeg, off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import textwrap
import unicodedata
from dataclasses import dataclass
from pathlib import Path

VIDEO_SIZES = {"16:9": (320, 180), "9:16": (180, 320), "1:1": (240, 240)}
VIDEO_FPS = 10
# Characters that end or split a token at each of ffmpeg's two parsing levels (option value, filtergraph).
_OPTION_SPECIALS = "\\':"
_GRAPH_SPECIALS = "\\'[],;"
_WHITESPACE = " \t\n\r"


class RenderError(RuntimeError):
    """ffmpeg failed or took too long to produce a media file."""


@dataclass(frozen=True)
class Rendered:
    """A media file that rendering produced."""

    path: Path
    size: int


def escape_filter_value(value: str) -> str:
    """Escape value for use as one option value inside an ffmpeg filtergraph string."""
    # av_get_token unescapes once per level and trims unescaped outer whitespace, so escape both.
    return _escape(_escape(value, _OPTION_SPECIALS + _WHITESPACE), _GRAPH_SPECIALS + _WHITESPACE)


def _escape(value: str, specials: str) -> str:
    """Put a backslash before every character of value found in specials."""
    return "".join(f"\\{char}" if char in specials else char for char in value)


def layout_text(text: str, width: int, height: int, font_size: int) -> str:
    """Wrap text into the lines that fit a frame, dropping control characters."""
    printable = "".join(" " if unicodedata.category(char).startswith("C") else char for char in text)
    words = " ".join(printable.split()) or "(no prompt)"
    columns = max(8, int((width - 16) / (font_size * 0.55)))
    rows = max(1, int(height * 0.8 / (font_size * 1.3)))
    return "\n".join(textwrap.wrap(words, columns, max_lines=rows, placeholder=" …"))


def drawtext_filter(text: str, font_file: Path, font_size: int) -> str:
    """Build a drawtext filter that draws text literally, centred on a dark box."""
    options = {
        "fontfile": escape_filter_value(str(font_file)),
        "text": escape_filter_value(text),
        # No %{...} expansion: prompts routinely contain percent signs.
        "expansion": "none",
        "fontsize": str(font_size),
        "fontcolor": "white",
        "box": "1",
        "boxcolor": "black@0.6",
        "boxborderw": "6",
        "line_spacing": "3",
        "x": "(w-text_w)/2",
        "y": "(h-text_h)/2",
    }
    return "drawtext=" + ":".join(f"{key}={value}" for key, value in options.items())


class Renderer:
    """Runs ffmpeg as an asyncio subprocess, a bounded number at a time."""

    def __init__(self, ffmpeg: str, font_file: Path, concurrency: int, timeout: float) -> None:
        self._ffmpeg = ffmpeg
        self._font_file = font_file
        self._slots = asyncio.Semaphore(concurrency)
        self._timeout = timeout

    async def video(self, path: Path, text: str, aspect_ratio: str, seconds: int) -> Rendered:
        """Render an H.264 MP4 of the given length with text drawn over a moving test pattern."""
        width, height = VIDEO_SIZES[aspect_ratio]
        font_size = max(10, min(width, height) // 12)
        source = f"testsrc2=s={width}x{height}:r={VIDEO_FPS}:d={seconds}"
        encode = ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "ultrafast"]
        encode += ["-movflags", "+faststart", "-an", "-f", "mp4"]
        drawn = drawtext_filter(layout_text(text, width, height, font_size), self._font_file, font_size)
        return await self._render(path, ["-f", "lavfi", "-i", source, "-vf", drawn, *encode])

    async def image(self, path: Path, text: str, width: int, height: int, seed: int) -> Rendered:
        """Render a PNG with text drawn over a background colour derived from seed."""
        font_size = max(10, min(width, height) // 16)
        # Darkened so the white text stays readable whatever the seed.
        colour = f"0x{(seed * 2654435761) % 0x1000000 & 0x7F7F7F:06x}"
        source = f"color=c={colour}:s={width}x{height}:d=1"
        drawn = drawtext_filter(layout_text(text, width, height, font_size), self._font_file, font_size)
        encode = ["-frames:v", "1", "-c:v", "png", "-f", "image2", "-update", "1"]
        return await self._render(path, ["-f", "lavfi", "-i", source, "-vf", drawn, *encode])

    async def _render(self, path: Path, arguments: list[str]) -> Rendered:
        """Run ffmpeg into a temporary file and move it into place only when complete."""
        temporary = path.with_name(f".{path.name}.partial")
        command = [self._ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *arguments]
        try:
            async with self._slots:
                await self._run([*command, str(temporary)])
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        os.replace(temporary, path)
        return Rendered(path, path.stat().st_size)

    async def _run(self, command: list[str]) -> None:
        """Run one ffmpeg command to completion, killing it on timeout or cancellation."""
        try:
            process = await asyncio.create_subprocess_exec(
                *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
            )
        except OSError as error:
            raise RenderError(f"cannot run {self._ffmpeg}: {error}") from error
        try:
            _, stderr = await asyncio.wait_for(process.communicate(), self._timeout)
        except BaseException as error:  # never leave ffmpeg running behind a dead job
            _kill(process)
            await process.wait()
            if isinstance(error, TimeoutError):
                raise RenderError(f"ffmpeg took longer than {self._timeout} s") from error
            raise
        if process.returncode != 0:
            raise RenderError(stderr.decode(errors="replace").strip() or f"ffmpeg exit {process.returncode}")


def _kill(process: asyncio.subprocess.Process) -> None:
    """Kill a subprocess that may already have exited."""
    with contextlib.suppress(ProcessLookupError):
        process.kill()
