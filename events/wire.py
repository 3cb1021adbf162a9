"""Bounded JSON decoding for everything that arrives from outside.

`json.loads` alone accepts what later halts a consumer or a database: nesting
deep enough to exhaust the stack, integers of thousands of digits, `NaN` and
`Infinity`, duplicate keys (the last one silently wins) and NUL characters
(PostgreSQL text cannot hold them). `decode` refuses each of them, before any
model sees the document, with a reason code and a message.

Two paths give the same answer. The fast one parses with orjson, which
refuses NaN, infinities, bad UTF-8 and lone surrogates on its own, and takes
the result only when nothing can be wrong: no integer long enough to break
the bound, and as many `"key":` tokens in the bytes as keys in the parsed
objects (so no key was dropped as a duplicate). Anything else, including
every orjson error, goes the careful way with `json.loads` and its hooks,
which names the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import orjson

MAX_INTEGER_DIGITS = 19          # beyond a signed 64-bit integer nothing is meaningful here


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Bounds on one incoming document; `Settings.limits()` builds the configured ones."""

    max_bytes: int = 1024 * 1024
    max_depth: int = 32
    max_indicators: int = 500


DEFAULT_LIMITS = Limits()


@dataclass
class WireError(ValueError):
    """The bytes are not an acceptable JSON document; `code` is machine-readable."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise WireError("duplicate_key", f"key {duplicate[:80]!r} appears more than once in one object")
    return document


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise WireError("number_out_of_range", f"integer with {len(text)} digits (at most {MAX_INTEGER_DIGITS})")
    return int(text)


def _no_constants(name: str) -> Any:
    raise WireError("number_out_of_range", f"{name} is not a finite number")


def _check_nul(document: Any) -> None:
    """NUL characters in keys or strings, walked without recursion."""
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if "\x00" in key:
                    raise WireError("nul_character", "a key contains the NUL character")
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str) and "\x00" in node:
            raise WireError("nul_character", "a string contains the NUL character")


def _depth_and_keys(document: Any, limit: int) -> tuple[int, int]:
    """How deep the containers of a parsed document nest, and how many keys its objects hold
    together (walked level by level, scalars skipped), stopping as soon as `limit` is passed."""
    level, depth, keys = ([document] if type(document) in _CONTAINERS else []), 0, 0
    while level and depth <= limit:
        depth += 1
        deeper: list = []
        keep = deeper.append
        for node in level:
            if type(node) is dict:
                keys += len(node)
                node = node.values()
            for value in node:
                if type(value) is dict or type(value) is list:
                    keep(value)
        level = deeper
    return depth, keys


_CONTAINERS = frozenset((dict, list))
_JSON_WHITESPACE = b" \t\r\n"
# Every byte a digit stays one ('0'), every other byte becomes a space: a long run of digits is then a
# plain substring search (a regex for it costs 15x more on a 5 KiB event).
_DIGIT_RUNS = bytes(ord("0") if chr(byte).isdigit() and byte < 128 else ord(" ") for byte in range(256))
_LONG_RUN = b"0" * (MAX_INTEGER_DIGITS + 1)


def _has_long_digit_run(raw: bytes) -> bool:
    """Could an integer in `raw` be longer than the bound? (Else none can be.)"""
    return _LONG_RUN in raw.translate(_DIGIT_RUNS)


def _key_tokens_at_least(raw: bytes) -> int:
    """A number never below the count of keys written in `raw`: every key is a string followed by its
    colon (whitespace between them is dropped first); a `"` before a colon anywhere else can only be
    an escaped quote inside a string, which only adds to the count."""
    return raw.translate(None, _JSON_WHITESPACE).count(b'":')


def decode(raw: bytes | str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Bytes -> a JSON value within `limits`, or `WireError`."""
    if len(raw) > limits.max_bytes:
        raise WireError("too_large", f"{len(raw)} bytes (at most {limits.max_bytes})")
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    # Counted in C: only a document that could break a bound is looked at more closely.
    long_digits = _has_long_digit_run(raw)
    if not long_digits:
        fast = _decode_fast(raw, limits)
        if fast is not _UNSURE:
            return fast
    return _decode_careful(raw, limits, long_digits=long_digits)


_UNSURE = object()


def _decode_fast(raw: bytes, limits: Limits) -> Any:
    """The document when orjson alone can vouch for it; `_UNSURE` otherwise."""
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _UNSURE
    depth, keys = _depth_and_keys(document, limits.max_depth)
    if depth > limits.max_depth or keys != _key_tokens_at_least(raw):
        return _UNSURE
    if b"\\u0000" in raw:
        _check_nul(document)
    return document


def _decode_careful(raw: bytes, limits: Limits, *, long_digits: bool) -> Any:
    openings = raw.count(b"[") + raw.count(b"{")
    try:
        document = json.loads(raw, object_pairs_hook=_no_duplicates,
                              parse_int=_bounded_int if long_digits else None, parse_constant=_no_constants)
    except WireError:
        raise
    except RecursionError:   # the C decoder's own guard against very deep nesting
        raise WireError("too_deep", f"nested deeper than {limits.max_depth} levels") from None
    except (UnicodeDecodeError, ValueError) as exc:   # JSONDecodeError is a ValueError
        raise WireError("malformed_json", f"not a JSON document: {exc}") from None
    if openings > limits.max_depth and _depth_and_keys(document, limits.max_depth)[0] > limits.max_depth:
        raise WireError("too_deep", f"nested deeper than {limits.max_depth} levels")
    if b"\\u0000" in raw:
        _check_nul(document)
    return document

