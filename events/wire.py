"""Bounded JSON decoding for everything that arrives from outside.

`json.loads` alone accepts what later halts a consumer or a database: nesting
deep enough to exhaust the stack, integers of thousands of digits, `NaN` and
`Infinity`, duplicate keys (the last one silently wins) and NUL characters
(PostgreSQL text cannot hold them). `decode` refuses each of them, before any
model sees the document, with a reason code and a message.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

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


_LONG_DIGITS = re.compile(rb"[0-9]{%d}" % (MAX_INTEGER_DIGITS + 1))


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


def _depth(document: Any, limit: int) -> int:
    """How deep the containers of a parsed document nest (walked level by level, scalars skipped),
    stopping as soon as `limit` is passed."""
    level, depth = ([document] if type(document) in _CONTAINERS else []), 0
    while level and depth <= limit:
        depth += 1
        deeper = []
        for node in level:
            values = node.values() if type(node) is dict else node
            deeper.extend(value for value in values if type(value) in _CONTAINERS)
        level = deeper
    return depth


_CONTAINERS = frozenset((dict, list))


def decode(raw: bytes | str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Bytes -> a JSON value within `limits`, or `WireError`."""
    if len(raw) > limits.max_bytes:
        raise WireError("too_large", f"{len(raw)} bytes (at most {limits.max_bytes})")
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    # Counted in C: only a document that could break a bound is looked at more closely.
    openings = raw.count(b"[") + raw.count(b"{")
    long_digits = _LONG_DIGITS.search(raw) is not None      # else no integer can be too long
    try:
        document = json.loads(raw, object_pairs_hook=_no_duplicates,
                              parse_int=_bounded_int if long_digits else None, parse_constant=_no_constants)
    except WireError:
        raise
    except RecursionError:   # the C decoder's own guard against very deep nesting
        raise WireError("too_deep", f"nested deeper than {limits.max_depth} levels") from None
    except (UnicodeDecodeError, ValueError) as exc:   # JSONDecodeError is a ValueError
        raise WireError("malformed_json", f"not a JSON document: {exc}") from None
    if openings > limits.max_depth and _depth(document, limits.max_depth) > limits.max_depth:
        raise WireError("too_deep", f"nested deeper than {limits.max_depth} levels")
    if b"\\u0000" in raw:
        _check_nul(document)
    return document

