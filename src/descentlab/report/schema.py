"""Reading a shared ``results.json`` safely: limits first, then its schema.

A report's ``results.json`` is a file people send each other, so ``report --from-json`` treats it
as untrusted input and refuses a bad one in one line, before anything is drawn or written:

1. the path must be a regular file (not a folder, ``/dev/zero`` or a FIFO) of at most
   :data:`MAX_BYTES`;
2. it must be JSON nested at most :data:`MAX_DEPTH` levels deep;
3. it must match ``results.schema.json`` (JSON Schema): the required keys, the type of every
   value, the range of counts, accuracies and rates.

:func:`validate` implements the part of JSON Schema that file uses (``type``, ``const``,
``minimum``/``maximum``/``exclusiveMinimum``, ``required``, ``properties``,
``additionalProperties``, ``items``, ``$ref``); the tests hold it equal to the ``jsonschema``
package on valid and broken files.
"""

from __future__ import annotations

import json
import os
import stat
from functools import cache
from importlib import resources
from typing import Any

from descentlab.errors import DataError

#: The largest results.json accepted: a full report's is a few megabytes.
MAX_BYTES = 64 * 2 ** 20
#: The deepest nesting accepted: a report's results are 9 levels deep.
MAX_DEPTH = 32

_TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
}


@cache
def results_schema() -> dict[str, Any]:
    """The JSON Schema of a report's ``results.json`` (``results.schema.json``)."""
    text = resources.files("descentlab.report").joinpath("results.schema.json").read_text(
        encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def read_json_file(path: str, what: str = "results file") -> Any:
    """The JSON in ``path``, after checking that it is a regular file of at most
    :data:`MAX_BYTES` nested at most :data:`MAX_DEPTH` deep; else a one-line
    :class:`DataError`."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise DataError(f"{what} {path!r} does not exist.") from None
    except OSError as exc:
        raise DataError(f"{what} {path!r} cannot be read: {exc.strerror or exc}.") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise DataError(f"{what} {path!r} is {kind}; give a results.json file.")
    if info.st_size > MAX_BYTES:
        raise DataError(f"{what} {path!r} holds {info.st_size:,} bytes; a results.json has at "
                        f"most {MAX_BYTES:,}.")
    try:
        with open(path, "rb") as stream:
            data = stream.read(MAX_BYTES + 1)  # a file that grows, or lies about its size
    except OSError as exc:
        raise DataError(f"{what} {path!r} cannot be read: {exc.strerror or exc}.") from None
    if len(data) > MAX_BYTES:
        raise DataError(f"{what} {path!r} holds more than {MAX_BYTES:,} bytes; a results.json "
                        "has fewer.")
    try:
        value = json.loads(data.decode("utf-8"))
    except RecursionError:
        raise DataError(f"{what} {path!r} is nested deeper than {MAX_DEPTH} levels; not a "
                        "results.json.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path!r} is not a JSON file ({exc}).") from None
    if _depth(value) > MAX_DEPTH:
        raise DataError(f"{what} {path!r} is nested deeper than {MAX_DEPTH} levels; not a "
                        "results.json.")
    return value


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (0 for a number or a string); walked
    with a stack, not recursion, so that no depth can overflow Python's call stack."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, (dict, list)):
            deepest = max(deepest, level)
            stack.extend((child, level + 1)
                         for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def validate(value: Any, schema: dict[str, Any] | None = None) -> None:
    """Raise :class:`DataError` naming the first place where ``value`` breaks ``schema``
    (default: :func:`results_schema`), e.g. ``vanishing.summary.0.depth: expected an integer
    ≥ 1, got 0``."""
    root = results_schema() if schema is None else schema
    problem = _check(value, root, root, "")
    if problem:
        raise DataError(problem)


def _check(value: Any, schema: dict[str, Any], root: dict[str, Any], where: str) -> str:
    """The first problem of ``value`` against ``schema`` at ``where`` ("" when it fits)."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        schema = root["$defs"][name]
    at = where or "the top level"
    if "const" in schema and value != schema["const"]:
        return f"{at}: expected {schema['const']!r}, got {_show(value)}"
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](value) for t in types):
            return f"{at}: expected {' or '.join(types)}, got {_show(value)}"
    if _TYPES["number"](value):
        if "minimum" in schema and not value >= schema["minimum"]:
            return f"{at}: expected a number ≥ {schema['minimum']}, got {_show(value)}"
        if "exclusiveMinimum" in schema and not value > schema["exclusiveMinimum"]:
            return f"{at}: expected a number > {schema['exclusiveMinimum']}, got {_show(value)}"
        if "maximum" in schema and not value <= schema["maximum"]:
            return f"{at}: expected a number ≤ {schema['maximum']}, got {_show(value)}"
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                return f"{at}: the entry {key!r} is missing"
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            inner = properties.get(key, extra if isinstance(extra, dict) else {})
            problem = _check(item, inner, root, f"{where}.{key}" if where else key)
            if problem:
                return problem
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            problem = _check(item, schema["items"], root, f"{where}.{i}" if where else str(i))
            if problem:
                return problem
    return ""


def _show(value: Any) -> str:
    """A received value for a message: short, and its type when that is the problem."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else f"{type(value).__name__} {text[:37]}…"
