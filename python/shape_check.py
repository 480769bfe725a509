"""Checks a request to an AWS operation against the operation's input shape in botocore's service model.

The stand-in for Bedrock (bedrock_standin.py) runs every Bedrock request it sees through this before
moto acts on it, so a request the real service refuses by its shape (the ValidationException AWS
services answer before they act) is refused locally too. The service model is the only source of the
rules: botocore's loader reads it from the botocore in the environment
(botocore/data/<service>/<api version>/service-2.json).

What is checked, and by what:
- botocore.validate.ParamValidator (the check the Python SDK makes before it sends): required
  members, unknown members, types, tagged unions (exactly one member set), and `min` of string
  lengths, list lengths and numbers.
- This module, for the constraints ParamValidator leaves out: `max` of string lengths, list lengths
  and numbers; `min`/`max` of map sizes; `enum`; `pattern` (matched against the whole value, as
  the API reference writes them, anchored `^…$`); a JSON boolean where a number is expected (Python's
  bool is an int, so ParamValidator takes it).
Patterns are matched with RE2 (google-re2: linear time): some of the model's patterns backtrack
exponentially in Python's re. A pattern RE2 cannot compile (a repetition count over 1000, e.g.
`[\\S]{1,2048}`) is not checked, and said so once on stderr.

Possibly stricter than the service: unknown members are refused (ParamValidator's rule); whether
the real service ignores them is not documented. No SDK sends one.

The request of a restJson operation is its JSON body plus the members bound to the URI, the query
string and headers (`location` / `locationName` of each member), converted from text to the member's
type as the protocol does.
"""
from __future__ import annotations

import json
import sys
from typing import Any, Callable, Mapping

import re2
from botocore.model import OperationModel, Shape
from botocore.validate import ParamValidator

NUMBER_TYPES = ("integer", "long", "float", "double")
# Values quoted in messages are cut to this many characters.
QUOTE_MAX = 100

# Compiled patterns by their text (None: RE2 cannot compile it).
_patterns: dict[str, Any] = {}


class RequestError(ValueError):
    """The request cannot be read as the operation's input (not JSON, a URI value of the wrong type)."""


def request_params(
    operation: OperationModel,
    body: bytes | str | None,
    uri_params: Mapping[str, str],
    query: Mapping[str, list[str]],
    headers: Mapping[str, str],
) -> dict[str, Any]:
    """The operation's input as the service reads it from a restJson request."""
    shape = operation.input_shape
    if shape is None:
        return {}
    text = body.decode("utf-8") if isinstance(body, bytes) else (body or "")
    params: dict[str, Any] = {}
    payload = shape.serialization.get("payload")
    if text.strip():
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise RequestError(f"the request body is not JSON ({error.msg})") from None
        if payload:
            params[payload] = document
        elif not isinstance(document, dict):
            raise RequestError("the request body is not a JSON object")
        else:
            by_wire_name = {m.serialization.get("name", n): n for n, m in shape.members.items() if not m.serialization.get("location")}
            for key, value in document.items():
                params[by_wire_name.get(key, key)] = value
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "uri" and wire in uri_params:
            params[name] = _from_text(uri_params[wire], member, name)
        elif location == "querystring" and wire in query:
            values = query[wire]
            if member.type_name == "list":
                params[name] = [_from_text(v, member.member, f"{name}[{i}]") for i, v in enumerate(values)]
            elif values:
                params[name] = _from_text(values[-1], member, name)
        elif location == "header" and wire in headers:
            params[name] = _from_text(headers[wire], member, name)
    return params


def _from_text(text: str, shape: Shape, path: str) -> Any:
    """A URI/query/header value as the member's type (restJson binds them as text)."""
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(text)
        if kind in ("float", "double"):
            return float(text)
    except ValueError:
        raise RequestError(f"Value at '{path}' is not a number") from None
    if kind == "boolean":
        if text not in ("true", "false"):
            raise RequestError(f"Value at '{path}' is not a boolean")
        return text == "true"
    return text  # strings, and timestamps (ParamValidator takes a string that parses as a date)


def check(params: Mapping[str, Any], shape: Shape | None, pattern_exempt: Callable[[str], bool] | None = None) -> list[str]:
    """Every violation of `shape` by `params`, each naming the member path; empty when none.
    `pattern_exempt(value)` true: that string's pattern is not checked (its other constraints are)."""
    if shape is None:
        return []
    report = ParamValidator().validate(dict(params), shape)
    errors = report.generate_report().split("\n") if report.has_errors() else []
    _walk(params, shape, "", errors, pattern_exempt or (lambda _value: False))
    return errors


def message(errors: list[str]) -> str:
    """The errors as one ValidationException message, AWS's way ("N validation errors detected: …")."""
    count = len(errors)
    return f"{count} validation error{'' if count == 1 else 's'} detected: " + "; ".join(errors)


def _quote(value: Any) -> str:
    text = str(value)
    return text if len(text) <= QUOTE_MAX else text[:QUOTE_MAX] + "…"


def _at(path: str) -> str:
    return path or "input"


def _walk(value: Any, shape: Shape, path: str, errors: list[str], exempt: Callable[[str], bool]) -> None:
    kind = shape.type_name
    meta = shape.metadata
    if value is None:
        return
    if kind == "structure":
        if not isinstance(value, dict) or shape.is_document_type:
            return
        for name, member in shape.members.items():
            if name in value:
                _walk(value[name], member, f"{path}.{name}" if path else name, errors, exempt)
    elif kind == "list":
        if not isinstance(value, (list, tuple)):
            return
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"Value at '{_at(path)}' failed to satisfy constraint: Member must have length less than or equal to {meta['max']}")
        for i, item in enumerate(value):
            _walk(item, shape.member, f"{path}[{i}]", errors, exempt)
    elif kind == "map":
        if not isinstance(value, dict):
            return
        if "min" in meta and len(value) < meta["min"]:
            errors.append(f"Value at '{_at(path)}' failed to satisfy constraint: Member must have length greater than or equal to {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"Value at '{_at(path)}' failed to satisfy constraint: Member must have length less than or equal to {meta['max']}")
        for key, item in value.items():
            _walk(key, shape.key, f"{path} (key)", errors, exempt)
            _walk(item, shape.value, f"{path}.{key}", errors, exempt)
    elif kind == "string":
        if not isinstance(value, str):
            return
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"Value at '{_at(path)}' failed to satisfy constraint: Member must have length less than or equal to {meta['max']}")
        if shape.enum and value not in shape.enum:
            errors.append(
                f"Value '{_quote(value)}' at '{_at(path)}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(shape.enum)}]"
            )
        pattern = meta.get("pattern")
        if pattern is not None and not shape.enum and not exempt(value) and not _matches(pattern, value):
            errors.append(f"Value at '{_at(path)}' failed to satisfy constraint: Member must satisfy regular expression pattern: ^{pattern}$")
    elif kind in NUMBER_TYPES:
        if isinstance(value, bool):
            errors.append(f"Invalid type for parameter {_at(path)}, value: {value}, type: boolean, valid types: number")
            return
        if not isinstance(value, (int, float)):
            return
        if "max" in meta and value > meta["max"]:
            errors.append(
                f"Value '{_quote(value)}' at '{_at(path)}' failed to satisfy constraint: "
                f"Member must have value less than or equal to {meta['max']}"
            )


def _matches(pattern: str, value: str) -> bool:
    compiled = _patterns.get(pattern)
    if compiled is None and pattern not in _patterns:
        try:
            compiled = re2.compile(pattern)
        except re2.error:
            compiled = None
            sys.stderr.write(f"[shape_check] pattern not checked (RE2 cannot compile it): {pattern}\n")
        _patterns[pattern] = compiled
    return True if compiled is None else compiled.fullmatch(value) is not None
