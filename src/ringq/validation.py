"""Reject bad arguments with `InvalidInput` (naming the argument) before anything is written."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ringq.errors import InvalidInput

NAME_RE = re.compile(r"[A-Za-z0-9_.:-]+")
SCHEMA_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
MAX_NAME_LEN = 64
MAX_ATTEMPTS_LIMIT = 1000
MIN_PRIORITY, MAX_PRIORITY = 0, 9
MAX_WORKER_LEN = 200
MAX_DELAY_S = 100 * 365 * 86400  # delays and retry delays: at most ~100 years


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return (isinstance(value, int | float)) and not isinstance(value, bool)


def check_schema(schema: object) -> str:
    if not isinstance(schema, str) or not SCHEMA_RE.fullmatch(schema):
        raise InvalidInput(
            f"schema: {schema!r} is not a valid schema name (letters, digits, '_', at most 63 chars, "
            "not starting with a digit)"
        )
    # PostgreSQL reserves the pg_ prefix for system schemas; information_schema is the standard's.
    if schema.startswith("pg_") or schema == "information_schema":
        raise InvalidInput(f"schema: {schema!r} is a name PostgreSQL reserves for system schemas")
    return schema


def check_name(arg: str, value: object) -> str:
    """Queue and task names: 1..64 chars of [A-Za-z0-9_.:-]."""
    if not isinstance(value, str):
        raise InvalidInput(f"{arg}: expected a str, got {type(value).__name__}")
    if not value:
        raise InvalidInput(f"{arg}: must not be empty")
    if len(value) > MAX_NAME_LEN:
        raise InvalidInput(f"{arg}: {len(value)} characters, at most {MAX_NAME_LEN} allowed")
    if not NAME_RE.fullmatch(value):
        raise InvalidInput(f"{arg}: {value!r} may only contain letters, digits and _ . : -")
    return value


def check_priority(value: object) -> int:
    if not _is_int(value):
        raise InvalidInput(f"priority: expected an int, got {type(value).__name__}")
    assert isinstance(value, int)
    if not MIN_PRIORITY <= value <= MAX_PRIORITY:
        raise InvalidInput(f"priority: {value} is outside {MIN_PRIORITY}..{MAX_PRIORITY}")
    return value


def check_max_attempts(value: object) -> int:
    if not _is_int(value):
        raise InvalidInput(f"max_attempts: expected an int, got {type(value).__name__}")
    assert isinstance(value, int)
    if not 1 <= value <= MAX_ATTEMPTS_LIMIT:
        raise InvalidInput(f"max_attempts: {value} is outside 1..{MAX_ATTEMPTS_LIMIT}")
    return value


def check_seconds(arg: str, value: object, *, allow_zero: bool = True) -> float:
    if not _is_number(value):
        raise InvalidInput(f"{arg}: expected a number of seconds, got {type(value).__name__}")
    seconds = float(value)  # type: ignore[arg-type]
    if not math.isfinite(seconds) or seconds < 0 or (seconds == 0 and not allow_zero):
        raise InvalidInput(f"{arg}: {value!r} must be a finite number of seconds >= 0")
    return seconds


def check_count(arg: str, value: object, minimum: int = 1) -> int:
    """A count (concurrency, batch sizes): an int (not a bool) of at least `minimum`."""
    if not _is_int(value) or value < minimum:  # type: ignore[operator]
        raise InvalidInput(f"{arg} must be an int >= {minimum}, got {value!r}")
    return value  # type: ignore[return-value]


def check_interval(arg: str, value: object, maximum: float, *, allow_zero: bool = False) -> float:
    """A wait in seconds (poll, flush, health intervals): finite, positive (or zero when
    `allow_zero`) and at most `maximum`."""
    seconds = check_seconds(arg, value)
    if (seconds == 0 and not allow_zero) or seconds > maximum:
        low = "[0" if allow_zero else "(0"
        raise InvalidInput(f"{arg} must be in {low}, {maximum}] seconds, got {value!r}")
    return seconds


def check_lease(value: object) -> float:
    lease = check_seconds("lease", value, allow_zero=False)
    if lease > 7 * 24 * 3600:
        raise InvalidInput(f"lease: {value!r} seconds is longer than a week")
    return lease


def check_schedule(run_at: object, delay: object) -> None:
    if run_at is not None and delay is not None:
        raise InvalidInput("run_at/delay: give one of them, not both")
    if run_at is not None:
        if not isinstance(run_at, datetime):
            raise InvalidInput(f"run_at: expected a datetime, got {type(run_at).__name__}")
        if run_at.tzinfo is None or run_at.utcoffset() is None:
            raise InvalidInput("run_at: must be timezone-aware (e.g. datetime.now(UTC))")
    if delay is not None:
        check_delay("delay", delay)


def check_delay(arg: str, value: object) -> float:
    """A delay in seconds: finite, >= 0 and at most MAX_DELAY_S (~100 years), so `now + delay`
    never overflows a datetime or a Postgres interval."""
    seconds = check_seconds(arg, value)
    if seconds > MAX_DELAY_S:
        raise InvalidInput(f"{arg}: {value!r} seconds is more than 100 years")
    return seconds


def check_dedup_key(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"dedup_key: expected a str or None, got {type(value).__name__}")
    if not value or len(value) > 512 or "\x00" in value:
        raise InvalidInput("dedup_key: must be 1..512 characters without NUL")
    return check_utf8("dedup_key", value)


def check_utf8(arg: str, value: str) -> str:
    """Caller-supplied identifiers (dedup_key, worker names) must be valid UTF-8: a lone
    surrogate is rejected rather than silently altered (it would change the identity)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{arg}: contains a lone surrogate, which is not valid UTF-8") from None
    return value


def check_limit(arg: str, value: object, maximum: int = 10_000) -> int:
    if not _is_int(value):
        raise InvalidInput(f"{arg}: expected an int, got {type(value).__name__}")
    assert isinstance(value, int)
    if not 1 <= value <= maximum:
        raise InvalidInput(f"{arg}: {value} is outside 1..{maximum}")
    return value


def check_id(arg: str, value: object) -> int:
    if not _is_int(value):
        raise InvalidInput(f"{arg}: expected an int, got {type(value).__name__}")
    assert isinstance(value, int)
    if not 1 <= value < 2**63:
        raise InvalidInput(f"{arg}: {value} is not a valid id")
    return value


def check_text(arg: str, value: object, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{arg}: expected a str, got {type(value).__name__}")
    # Free text (error messages, tracebacks) is sanitised, never rejected: a failing handler's
    # message must always be recordable. Text columns reject NUL (kept readable as \0) and lone
    # surrogates, which are not UTF-8 (replaced by "?").
    text = value.replace("\x00", "\\0")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def _find_nul(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and "\x00" in key:
                return f"{path} (a key)"
            found = _find_nul(item, f"{path}[{key!r}]")
            if found:
                return found
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = _find_nul(item, f"{path}[{i}]")
            if found:
                return found
    return None


def _json_key(key: object) -> str:
    """The object key json.dumps writes for a (non-str) dict key."""
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, float):
        return float.__repr__(key)
    if isinstance(key, int):
        return int.__repr__(key)
    return str(key)


def _find_key_collision(value: Any, path: str) -> str | None:
    """The path of a dict whose keys collide once JSON turns them into strings ({1: .., "1": ..}),
    which jsonb would silently collapse to one; None when there is none."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, Mapping):
            if not all(type(k) is str for k in item):
                seen: dict[str, object] = {}
                for key in item:
                    text = key if isinstance(key, str) else _json_key(key)
                    if text in seen:
                        return f"{where}: keys {seen[text]!r} and {key!r} are both the JSON key {text!r}"
                    seen[text] = key
            stack.extend(
                (v, f"{where}[{k!r}]") for k, v in item.items() if isinstance(v, Mapping | list | tuple)
            )
        elif isinstance(item, list | tuple):
            stack.extend(
                (v, f"{where}[{i}]") for i, v in enumerate(item) if isinstance(v, Mapping | list | tuple)
            )
    return None


def encode_json(arg: str, value: Any, max_bytes: int) -> str:
    """`value` as compact JSON text that Postgres jsonb accepts, or InvalidInput.

    Dict keys that are not str become strings by JSON's rules (1 -> "1", True -> "true",
    None -> "null"), so they come back as strings. Two keys of one dict that become the same
    string ({1: "a", "1": "b"}) are rejected: jsonb would silently keep only one of them.
    """
    try:
        text = json.dumps(value, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{arg}: not JSON-serialisable ({exc})") from None
    except RecursionError:
        raise InvalidInput(f"{arg}: nested too deeply to serialise") from None
    # jsonb rejects \u0000; the text always escapes NUL that way, so only then walk the value
    nul = _find_nul(value, arg) if "\\u0000" in text else None
    if nul:
        raise InvalidInput(f"{nul}: contains a NUL character (\\u0000), which jsonb rejects")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidInput(f"{arg}: contains a lone surrogate, which is not valid UTF-8") from None
    if size > max_bytes:
        raise InvalidInput(f"{arg}: {size} bytes of JSON, more than max_payload_bytes={max_bytes}")
    collision = _find_key_collision(value, arg)
    if collision:
        raise InvalidInput(f"{collision}; jsonb would keep only one")
    return text


def item_error(arg: str, index: int, exc: InvalidInput) -> InvalidInput:
    """`exc` about item `index` of the sequence argument `arg`: `jobs[3].payload: ...`."""
    return InvalidInput(f"{arg}[{index}].{exc}")
