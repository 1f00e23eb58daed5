"""Field values and schema names: parsing, normalising and checking.

Each field type turns an incoming value (text from the CLI or TUI, or a JSON value from
the API) into the canonical text that is stored in ``content_fields.field_value``, or
reports why it cannot. Rules come from ``Field.validation``:

========== ==========================================================================
type       rules (all optional)
========== ==========================================================================
text       ``min_length``, ``max_length`` (default 255), ``pattern`` (full match)
textarea   ``min_length``, ``max_length``
richtext   ``max_length`` (markdown source)
number     ``min``, ``max``, ``integer`` (bool)
select     ``options`` (list of allowed strings; required for the type)
reference  ``target`` (datatype name the referenced node must have; checked by services)
others     none; the type itself is the rule (email, url, slug, date, datetime, ...)
========== ==========================================================================
"""

from __future__ import annotations

import json
import math
import re
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from modulacms.core.clock import format_ts, parse_ts
from modulacms.core.models import FieldType

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
SLUG_SEGMENT = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ULID_PATTERN = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DEFAULT_TEXT_MAX = 255
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}

RULES_BY_TYPE: dict[FieldType, frozenset[str]] = {
    FieldType.TEXT: frozenset({"min_length", "max_length", "pattern"}),
    FieldType.TEXTAREA: frozenset({"min_length", "max_length"}),
    FieldType.RICHTEXT: frozenset({"max_length"}),
    FieldType.NUMBER: frozenset({"min", "max", "integer"}),
    FieldType.SELECT: frozenset({"options"}),
    FieldType.REFERENCE: frozenset({"target"}),
}


class InvalidValue(ValueError):
    """A value does not fit its field; the message is meant for the user."""


def check_name(name: str, what: str = "name") -> str | None:
    """Why ``name`` is not a valid schema name (lowercase identifier), or None."""
    if not NAME_PATTERN.match(name):
        return (
            f"{what} must start with a lowercase letter and use only a-z, 0-9 and _ "
            "(at most 63 characters)"
        )
    return None


def normalise_slug(slug: str) -> str:
    """Canonical slug text: ``/`` or ``/seg/seg`` with lowercase ``a-z0-9-`` segments.

    Raises ``InvalidValue`` describing the problem.
    """
    text = slug.strip()
    if not text.startswith("/"):
        raise InvalidValue("a slug starts with /, like /about or /blog/hello")
    if text == "/":
        return text
    segments = text.strip("/").split("/")
    for segment in segments:
        if not SLUG_SEGMENT.match(segment):
            raise InvalidValue(
                f"slug segment {segment!r} must be lowercase letters, digits and single "
                "hyphens (a-z, 0-9, -)"
            )
    return "/" + "/".join(segments)


def check_rules(field_type: FieldType, rules: dict[str, Any]) -> list[str]:
    """Problems with a field definition's validation rules (empty when fine)."""
    allowed = RULES_BY_TYPE.get(field_type, frozenset())
    problems = [
        f"rule {key!r} does not apply to {field_type} fields" for key in rules if key not in allowed
    ]
    for key in ("min_length", "max_length"):
        if key in rules and (not isinstance(rules[key], int) or rules[key] < 0):
            problems.append(f"{key} must be a whole number of 0 or more")
    for key in ("min", "max"):
        if key in rules and (
            isinstance(rules[key], bool) or not isinstance(rules[key], int | float)
        ):
            problems.append(f"{key} must be a number")
    if "pattern" in rules:
        try:
            re.compile(str(rules["pattern"]))
        except re.error as exc:
            problems.append(f"pattern is not a valid regular expression: {exc}")
    if field_type is FieldType.SELECT:
        options = rules.get("options")
        if (
            not isinstance(options, list)
            or not options
            or not all(isinstance(o, str) for o in options)
        ):
            problems.append("select fields need options: a non-empty list of strings")
    return problems


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        raise InvalidValue("expected text")
    return str(value)


def _check_length(text: str, rules: dict[str, Any], default_max: int | None) -> None:
    max_length = rules.get("max_length", default_max)
    if max_length is not None and len(text) > max_length:
        raise InvalidValue(f"at most {max_length} characters (got {len(text)})")
    min_length = rules.get("min_length")
    if min_length is not None and len(text) < min_length:
        raise InvalidValue(f"at least {min_length} characters")


def _number(value: Any, rules: dict[str, Any]) -> str:
    if isinstance(value, bool):
        raise InvalidValue("expected a number")
    try:
        number = float(value) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        raise InvalidValue("expected a number") from None
    if isinstance(number, float) and not math.isfinite(number):
        raise InvalidValue("expected a finite number")
    if rules.get("integer") and float(number) != int(float(number)):
        raise InvalidValue("expected a whole number")
    if "min" in rules and number < rules["min"]:
        raise InvalidValue(f"must be at least {rules['min']}")
    if "max" in rules and number > rules["max"]:
        raise InvalidValue(f"must be at most {rules['max']}")
    if float(number).is_integer() and abs(number) < 2**53:
        return str(int(float(number)))
    return repr(float(number))


def _boolean(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = _text(value).strip().lower()
    if text in _TRUE:
        return "true"
    if text in _FALSE:
        return "false"
    raise InvalidValue("expected true or false")


def _json(value: Any) -> str:
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise InvalidValue(f"not valid JSON: {exc.msg} at position {exc.pos}") from None
    else:
        parsed = value
    return json.dumps(parsed, separators=(",", ":"), ensure_ascii=False)


def normalise_value(field_type: FieldType, rules: dict[str, Any], value: Any) -> str | None:
    """Canonical stored text for ``value``, or None for an empty value.

    Raises ``InvalidValue`` with a message for the user.
    """
    if value is None or (isinstance(value, str) and value == "" and field_type != FieldType.JSON):
        return None
    if field_type in (FieldType.TEXT, FieldType.TEXTAREA, FieldType.RICHTEXT):
        text = _text(value)
        default_max = DEFAULT_TEXT_MAX if field_type is FieldType.TEXT else None
        _check_length(text, rules, default_max)
        pattern = rules.get("pattern")
        if pattern and not re.fullmatch(str(pattern), text):
            raise InvalidValue(f"does not match the pattern {pattern}")
        return text
    if field_type is FieldType.NUMBER:
        return _number(value, rules)
    if field_type is FieldType.BOOLEAN:
        return _boolean(value)
    if field_type is FieldType.DATE:
        try:
            return date.fromisoformat(_text(value).strip()).isoformat()
        except ValueError:
            raise InvalidValue("expected a date like 2026-01-31") from None
    if field_type is FieldType.DATETIME:
        try:
            return format_ts(parse_ts(_text(value)))
        except ValueError:
            raise InvalidValue("expected a date and time like 2026-01-31T09:30:00Z") from None
    if field_type is FieldType.SELECT:
        text = _text(value)
        options = rules.get("options") or []
        if text not in options:
            raise InvalidValue(f"must be one of: {', '.join(map(str, options))}")
        return text
    if field_type is FieldType.EMAIL:
        text = _text(value).strip()
        if not _EMAIL.match(text):
            raise InvalidValue("expected an email address like name@example.com")
        return text
    if field_type is FieldType.URL:
        text = _text(value).strip()
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidValue("expected an http:// or https:// address")
        return text
    if field_type is FieldType.SLUG:
        text = _text(value).strip()
        if not SLUG_SEGMENT.match(text):
            raise InvalidValue("expected lowercase letters, digits and hyphens")
        return text
    if field_type is FieldType.JSON:
        return _json(value)
    # media and reference hold the id of another record; services check that it exists
    text = _text(value).strip().upper()
    if not ULID_PATTERN.match(text):
        raise InvalidValue("expected the id of a record (26 characters)")
    return text


def typed_value(field_type: FieldType, stored: str | None) -> Any:
    """The JSON value for stored text: numbers as numbers, booleans, parsed JSON."""
    if stored is None:
        return None
    if field_type is FieldType.NUMBER:
        number = float(stored)
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if field_type is FieldType.BOOLEAN:
        return stored == "true"
    if field_type is FieldType.JSON:
        return json.loads(stored)
    return stored


def numeric_value(field_type: FieldType, stored: str | None) -> float | None:
    """The number to index for SQL comparisons, for number fields only."""
    if field_type is not FieldType.NUMBER or stored is None:
        return None
    return float(stored)
