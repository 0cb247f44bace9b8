"""Rendered media: real H.264 MP4s and PNGs, drawn prompts, and Range serving."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from canvasgen_stack.falsim.config import DEFAULT_FONT
from canvasgen_stack.falsim.media import drawtext_filter, escape_filter_value, layout_text

from .support import IMAGE_MODEL, Sim

NASTY = "a \"quoted\" it's: 100% \\back\\slash, [x]; %{pts} ünïcødé 日本 \\' \\\\: end\\"


def probe(path: Path) -> dict[str, Any]:
    """Return ffprobe's view of the first stream and the container of a file."""
    command = ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)]
    info: dict[str, Any] = json.loads(subprocess.run(command, capture_output=True, check=True).stdout)
    return info


def fetch_output(sim: Sim, tmp_path: Path, **submit: Any) -> tuple[dict[str, Any], Path]:
    """Submit, wait, download the first media file; return the output and the file."""
    job = sim.submitted(**submit)
    sim.wait(job)
    output = sim.http.get(job["response_url"]).json()
    file = output["video"] if "video" in output else output["images"][0]
    response = sim.http.get(file["url"])
    assert response.status_code == 200
    assert response.headers["content-length"] == str(file["file_size"]) == str(len(response.content))
    assert response.headers["content-type"] == file["content_type"]
    path = tmp_path / file["file_name"]
    path.write_bytes(response.content)
    return output, path


@pytest.mark.parametrize(("duration", "seconds"), [(None, 5), ("10", 10)])
def test_video_is_playable_h264_of_requested_length(
    sim: Sim, tmp_path: Path, duration: Any, seconds: int
) -> None:
    """Video models produce an H.264 yuv420p MP4 lasting the requested duration (default 5 s)."""
    extra = {"duration": duration} if duration else {}
    output, path = fetch_output(sim, tmp_path, prompt="a cat", **extra)
    video = output["video"]
    assert video["url"].endswith(f"/media/{video['file_name']}") and video["file_name"].endswith(".mp4")
    info = probe(path)
    stream = info["streams"][0]
    assert (stream["codec_name"], stream["pix_fmt"], stream["width"], stream["height"]) == (
        "h264",
        "yuv420p",
        320,
        180,
    )
    assert abs(float(info["format"]["duration"]) - seconds) < 0.3


@pytest.mark.parametrize(("ratio", "size"), [("9:16", (180, 320)), ("1:1", (240, 240))])
def test_video_follows_aspect_ratio(sim: Sim, tmp_path: Path, ratio: str, size: tuple[int, int]) -> None:
    """The aspect_ratio input picks the frame size."""
    _, path = fetch_output(sim, tmp_path, prompt="a cat", aspect_ratio=ratio)
    stream = probe(path)["streams"][0]
    assert (stream["width"], stream["height"]) == size


def test_image_model_returns_a_real_png(sim: Sim, tmp_path: Path) -> None:
    """Image models produce a PNG and flux's output fields."""
    output, path = fetch_output(sim, tmp_path, prompt="a dog", model=IMAGE_MODEL, seed=7)
    image = output["images"][0]
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    stream = probe(path)["streams"][0]
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("png", 512, 384)
    assert (image["width"], image["height"], image["content_type"]) == (512, 384, "image/png")
    assert output["seed"] == 7 and output["has_nsfw_concepts"] == [False] and output["prompt"] == "a dog"
    assert output["timings"]["inference"] >= 0


def test_num_images_renders_that_many_files(sim: Sim) -> None:
    """num_images=2 returns two distinct, downloadable images."""
    job = sim.submitted("two dogs", model=IMAGE_MODEL, num_images=2, image_size="square")
    sim.wait(job)
    images = sim.http.get(job["response_url"]).json()["images"]
    assert len({image["url"] for image in images}) == 2
    assert all(sim.http.get(image["url"]).status_code == 200 for image in images)


def test_prompt_with_filter_syntax_characters_renders(sim: Sim, tmp_path: Path) -> None:
    """Quotes, colons, backslashes, percent signs and unicode in a prompt do not break rendering."""
    output, path = fetch_output(sim, tmp_path, prompt=NASTY)
    assert probe(path)["streams"][0]["codec_name"] == "h264"


def test_escaped_text_draws_exactly_like_the_raw_text(tmp_path: Path) -> None:
    """The escaped drawtext filter draws the same pixels as reading the text from a file."""
    text = layout_text(NASTY, 512, 384, 24)
    (tmp_path / "text.txt").write_text(text)
    raw_file = (
        f"drawtext=fontfile={DEFAULT_FONT}:textfile=text.txt:expansion=none:fontsize=24:fontcolor=white:"
    )
    raw_file += "box=1:boxcolor=black@0.6:boxborderw=6:line_spacing=3:x=(w-text_w)/2:y=(h-text_h)/2"

    def frame(filter_text: str) -> bytes:
        """Render one frame through filter_text and return its raw RGB pixels."""
        command = [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "color=c=red:s=512x384:d=1",
            "-vf",
            filter_text,
        ]
        command += ["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
        return subprocess.run(command, capture_output=True, check=True, cwd=tmp_path).stdout

    assert frame(drawtext_filter(text, DEFAULT_FONT, 24)) == frame(raw_file)


def test_escape_filter_value_protects_separators() -> None:
    """Filter-level and option-level special characters are backslash-escaped twice over."""
    assert escape_filter_value("a:b") == "a\\\\:b"
    assert escape_filter_value("x,y") == "x\\,y"
    assert escape_filter_value("plain") == "plain"


def test_tag_is_not_part_of_the_drawn_text(sim: Sim) -> None:
    """Fault tags are stripped from the text drawn on the media."""
    job = sim.submitted("a cat [sim:duplicate=1] on a mat")
    assert sim.admin(job["request_id"])["prompt_text"] == "a cat on a mat"


def _media(sim: Sim, tmp_path: Path) -> tuple[str, bytes]:
    """Render an image and return its URL and full content."""
    output, path = fetch_output(sim, tmp_path, prompt="ranges", model=IMAGE_MODEL)
    return output["images"][0]["url"], path.read_bytes()


def test_range_requests_answer_206_with_the_slice(sim: Sim, tmp_path: Path) -> None:
    """Closed, open-ended and suffix ranges answer 206 with Content-Range and the exact bytes."""
    url, content = _media(sim, tmp_path)
    size = len(content)
    cases = {"bytes=0-99": (0, 99), "bytes=100-": (100, size - 1), "bytes=-50": (size - 50, size - 1)}
    cases["bytes=10-999999999"] = (10, size - 1)
    for header, (start, end) in cases.items():
        response = sim.http.get(url, headers={"Range": header})
        assert response.status_code == 206, header
        assert response.headers["content-range"] == f"bytes {start}-{end}/{size}"
        assert response.headers["content-length"] == str(end - start + 1)
        assert response.content == content[start : end + 1]


def test_unsatisfiable_and_ignored_ranges(sim: Sim, tmp_path: Path) -> None:
    """A range past the end is 416; multi-ranges and malformed ranges get the whole file."""
    url, content = _media(sim, tmp_path)
    past = sim.http.get(url, headers={"Range": f"bytes={len(content)}-"})
    assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{len(content)}"
    for header in ("bytes=0-1,5-9", "items=0-5", "bytes=9-3"):
        response = sim.http.get(url, headers={"Range": header})
        assert (response.status_code, response.content) == (200, content)


def test_head_reports_size_and_range_support(sim: Sim, tmp_path: Path) -> None:
    """HEAD answers the headers of a GET without a body."""
    url, content = _media(sim, tmp_path)
    response = sim.http.head(url)
    assert response.status_code == 200 and response.content == b""
    assert response.headers["content-length"] == str(len(content))
    assert response.headers["accept-ranges"] == "bytes"


def test_unknown_media_is_404(sim: Sim) -> None:
    """Unknown or malformed media names answer 404."""
    for name in ("00000000-0000-4000-8000-000000000000.mp4", "x.png", ".partial.png"):
        assert sim.http.get(f"{sim.url}/media/{name}").status_code == 404
    escape = sim.http.get(f"{sim.url}/media/..%2Fwebhook-signing-key.pem")
    assert escape.status_code in (404, 405) and b"PRIVATE" not in escape.content
