"""The fault tag syntax of prompts."""

from __future__ import annotations

import pytest

from canvasgen_stack.falsim.faults import Faults, FaultTagError, parse_prompt


def test_prompt_without_tags_is_untouched() -> None:
    """A prompt without tags yields its own text and no faults."""
    assert parse_prompt("a cat: 50% [cute]") == ("a cat: 50% [cute]", Faults())


def test_flags_and_values_are_parsed_and_stripped() -> None:
    """Flags and name=value items combine; the tag disappears from the text."""
    text, faults = parse_prompt("a cat [sim:duplicate=3, delay=2.5,bad_signature] on a mat")
    assert text == "a cat on a mat"
    assert (faults.duplicate, faults.delay, faults.bad_signature) == (3, 2.5, True)
    assert faults.model_fields_set == {"duplicate", "delay", "bad_signature"}


def test_several_tags_merge() -> None:
    """Faults from several tags in one prompt are combined."""
    text, faults = parse_prompt("[sim:drop] x [sim:stale_timestamp=400]")
    assert (text, faults.drop, faults.stale_timestamp) == ("x", True, 400)


def test_sizes_take_binary_suffixes() -> None:
    """Byte counts accept K, M and G suffixes."""
    _, faults = parse_prompt("[sim:large_media=2G,slow_media=64K]")
    assert (faults.large_media, faults.slow_media) == (2 * 1024**3, 64 * 1024)


def test_redirect_value_may_hold_an_ipv6_loopback() -> None:
    """A bracketed IPv6 host stays inside the value."""
    _, faults = parse_prompt("[sim:redirect=http://[::1]:9000/a.mp4?x=1]")
    assert faults.redirect == "http://[::1]:9000/a.mp4?x=1"


@pytest.mark.parametrize(
    "prompt",
    [
        "[sim:]",
        "[sim:nope]",
        "[sim:Drop]",
        "[sim:drop=yes]",
        "[sim:duplicate]",
        "[sim:duplicate=0]",
        "[sim:duplicate=two]",
        "[sim:delay=-1]",
        "[sim:stale_timestamp=1.5]",
        "[sim:large_media=1T]",
        "[sim:submit_status=200]",
        "[sim:redirect=file:///etc/passwd]",
        "[sim:drop,drop]",
        "[sim:drop] [sim:drop]",
        "[sim:drop",
        "[sim: drop]",
    ],
)
def test_malformed_tags_are_errors(prompt: str) -> None:
    """Anything after `[sim:` that is not a valid tag raises FaultTagError."""
    with pytest.raises(FaultTagError):
        parse_prompt(prompt)


def test_tag_overrides_global_only_where_set() -> None:
    """A job's tag replaces only the global fields it names."""
    global_faults = Faults(model_error=True, duplicate=2)
    _, tag = parse_prompt("[sim:duplicate=1]")
    merged = global_faults.overridden_by(tag)
    assert (merged.model_error, merged.duplicate) == (True, 1)
