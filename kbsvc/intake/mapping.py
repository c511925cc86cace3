"""Column → field mapping: Chinese and English headers recognised, --map and mapping files."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kbsvc.exceptions import ValidationFailed
from kbsvc.intake.headers import FIELDS, JOINED, guess_field, header_key, hours_header


@dataclass
class Mapping:
    """Explicit column choices (from --map and a mapping file) on top of header recognition."""

    columns: dict[str, list[str]] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    date_formats: list[str] = field(default_factory=list)
    source: str | None = None

    def merged(self, other: Mapping) -> Mapping:
        """`other` wins field by field (used for --map over a mapping file)."""
        return Mapping(
            columns={**self.columns, **other.columns},
            defaults={**self.defaults, **other.defaults},
            date_formats=[*other.date_formats, *self.date_formats],
            source=other.source or self.source,
        )

    def bind(self, headers: Sequence[str]) -> BoundMapping:
        """Resolve fields to this file's columns; unknown columns are a clear error."""
        by_key = {header_key(h): h for h in reversed(headers)}
        fields: dict[str, list[str]] = {}
        used: set[str] = set()
        for name, cols in self.columns.items():
            for col in cols:
                header = col if col in headers else by_key.get(header_key(col))
                if header is None:
                    shown = "、".join(str(h) for h in headers[:30])
                    raise ValidationFailed(
                        f"column {col!r} (mapped to {name}) is not in the file; columns: {shown}",
                        column=col,
                        field=name,
                    )
                fields.setdefault(name, []).append(header)
                used.add(header)
        for header in headers:
            guessed = guess_field(header)
            if header in used or guessed is None or guessed in self.columns:
                continue
            fields.setdefault(guessed, []).append(header)
        if not {"title", "symptom", "description", "solution"} & fields.keys():
            shown = "、".join(str(h) for h in headers[:30]) or "(none)"
            raise ValidationFailed(
                "no column for title, symptom, description or solution was recognised; "
                f"name one with --map symptom=COLUMN (columns: {shown})"
            )
        hours = any(hours_header(h) for h in fields.get("handling_minutes", []))
        return BoundMapping(fields=fields, defaults=dict(self.defaults), hours=hours)


@dataclass
class BoundMapping:
    """Fields resolved to the columns of one file."""

    fields: dict[str, list[str]]
    defaults: dict[str, str]
    hours: bool = False  # the handling-time column counts hours, not minutes

    def extract(self, values: dict[str, Any], is_blank: Any) -> dict[str, Any]:
        """Raw field values of a row (text fields with several columns are joined)."""
        out: dict[str, Any] = dict(self.defaults)
        for name, cols in self.fields.items():
            present = [values.get(c) for c in cols if not is_blank(values.get(c))]
            if not present:
                continue
            if name in JOINED and len(present) > 1:
                parts = list(dict.fromkeys(str(v).strip() for v in present))
                out[name] = "\n".join(parts)
            else:
                out[name] = present[0]
        return out


def _check_field(name: str, origin: str) -> str:
    name = name.strip()
    if name not in FIELDS:
        hint = f" (did you mean {guess_field(name)}?)" if guess_field(name) else ""
        raise ValidationFailed(
            f"unknown field {name!r} in {origin}{hint}; fields: {', '.join(FIELDS)}", field=name
        )
    return name


def parse_map_options(options: Iterable[str]) -> Mapping:
    """Mapping from `--map FIELD=COLUMN` options."""
    columns: dict[str, list[str]] = {}
    for option in options:
        name, sep, column = option.partition("=")
        if not sep or not column.strip():
            raise ValidationFailed(f"--map needs FIELD=COLUMN, got {option!r}")
        columns.setdefault(_check_field(name, f"--map {option}"), []).append(column.strip())
    return Mapping(columns=columns)


def load_mapping_file(path: Path) -> Mapping:
    """Mapping from a TOML file: source, date_formats, [columns] and [defaults]."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(f"mapping file {path}: not UTF-8 text") from None
    return parse_mapping_toml(text, origin=str(path))


def parse_mapping_toml(text: str, *, origin: str = "mapping") -> Mapping:
    """Mapping from TOML text (a mapping file's content; webhooks store it as text)."""
    path = origin
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationFailed(f"mapping file {path}: invalid TOML: {exc}") from None
    unknown = set(data) - {"source", "date_formats", "columns", "defaults"}
    if unknown:
        raise ValidationFailed(
            f"mapping file {path}: unknown keys {sorted(unknown)}; "
            "allowed: source, date_formats, [columns], [defaults]"
        )
    columns: dict[str, list[str]] = {}
    for name, value in dict(data.get("columns", {})).items():
        cols = value if isinstance(value, list) else [value]
        if not cols or not all(isinstance(c, str) and c.strip() for c in cols):
            raise ValidationFailed(f"mapping file {path}: columns.{name} must name a column")
        columns[_check_field(name, f"mapping file {path}")] = [c.strip() for c in cols]
    defaults = {
        _check_field(k, f"mapping file {path} [defaults]"): str(v)
        for k, v in dict(data.get("defaults", {})).items()
    }
    formats = data.get("date_formats", [])
    if not isinstance(formats, list) or not all(isinstance(f, str) for f in formats):
        raise ValidationFailed(f"mapping file {path}: date_formats must be a list of strings")
    source = data.get("source")
    if source is not None and (not isinstance(source, str) or not source.strip()):
        raise ValidationFailed(f"mapping file {path}: source must be a non-empty string")
    return Mapping(columns=columns, defaults=defaults, date_formats=formats, source=source)
