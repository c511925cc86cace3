"""Ranked ids → the fields a hit shows, tags and source tickets included, in one query."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col

from kbsvc.auth import policy
from kbsvc.auth.models import Principal
from kbsvc.entries.models import Entry, EntryLink, EntryTag, LinkKind, Tag
from kbsvc.search.models import SourceRef

MAX_SOURCES = 20


@dataclass
class HitRow:
    """An entry as a hit shows it."""

    id: int
    title: str
    symptom: str
    cause: str
    solution: str
    workaround: str
    system: str
    department: str
    status: str
    tags: list[str]
    sources: list[SourceRef]


class json_list(FunctionElement[Any]):  # noqa: N801 - reads as the SQL function it is
    """Aggregate into a JSON array: json_group_array on SQLite, json_agg on PostgreSQL."""

    inherit_cache = True


class json_row(FunctionElement[Any]):  # noqa: N801
    """A JSON array of the arguments: json_array on SQLite, json_build_array on PostgreSQL."""

    inherit_cache = True


@compiles(json_list, "sqlite")
def _json_list_sqlite(element: json_list, compiler: Any, **kw: Any) -> str:
    return f"json_group_array({compiler.process(element.clauses, **kw)})"


@compiles(json_list, "postgresql")
def _json_list_pg(element: json_list, compiler: Any, **kw: Any) -> str:
    return f"json_agg({compiler.process(element.clauses, **kw)})"


@compiles(json_row, "sqlite")
def _json_row_sqlite(element: json_row, compiler: Any, **kw: Any) -> str:
    return f"json_array({compiler.process(element.clauses, **kw)})"


@compiles(json_row, "postgresql")
def _json_row_pg(element: json_row, compiler: Any, **kw: Any) -> str:
    return f"json_build_array({compiler.process(element.clauses, **kw)})"


def _decoded(value: Any) -> list[Any]:
    # SQLite hands JSON back as text, psycopg as Python objects; no rows is NULL on PostgreSQL.
    if value is None or value == "[]":  # most entries have no tags or links: skip the parser
        return []
    return list(json.loads(value) if isinstance(value, str) else value)


def _tags_column() -> Any:
    return (
        select(json_list(col(Tag.name)))
        .join(EntryTag, col(EntryTag.tag_id) == col(Tag.id))
        .where(col(EntryTag.entry_id) == col(Entry.id))
        .scalar_subquery()
    )


def _links_column() -> Any:
    link = json_row(
        col(EntryLink.id), col(EntryLink.kind), col(EntryLink.source), col(EntryLink.external_id)
    )
    return select(json_list(link)).where(col(EntryLink.entry_id) == col(Entry.id)).scalar_subquery()


def _sources(packed: Any) -> list[SourceRef]:
    links = [tuple(x) for x in _decoded(packed) if x and x[0] is not None]
    # The ticket the entry came from first, then citing tickets in the order they were linked.
    links.sort(key=lambda x: (x[1] != LinkKind.source.value, x[0]))
    return [SourceRef(source=s, external_id=e, kind=k) for _i, k, s, e in links[:MAX_SOURCES]]


@lru_cache(maxsize=1)
def _columns() -> Select[Any]:
    """The hit's columns, built once: constructing them cost more than running the query."""
    return select(
        col(Entry.id),
        col(Entry.title),
        col(Entry.symptom),
        col(Entry.cause),
        col(Entry.solution),
        col(Entry.workaround),
        col(Entry.system),
        col(Entry.department),
        col(Entry.status),
        _tags_column(),
        _links_column(),
    )


_STATEMENTS: dict[tuple[bool, bool, tuple[str, ...]] | None, Select[Any]] = {}


def _statement(principal: Principal | None) -> Select[Any]:
    """The hydration query for callers who see what `principal` sees, built once per kind of
    caller (building it took longer than SQLite takes to answer it)."""
    key = None if principal is None else policy.filter_key(principal)
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        stmt = _columns().where(col(Entry.id).in_(bindparam("ids", expanding=True)))
        if principal is not None:
            stmt = stmt.where(policy.visible_filter(principal))
        if len(_STATEMENTS) >= 256:  # one per department set in use; bounded all the same
            _STATEMENTS.clear()
        _STATEMENTS[key] = stmt
    return stmt


def load(
    session: Session, ids: Sequence[int], principal: Principal | None = None
) -> dict[int, HitRow]:
    """Rows of `ids` that exist (and that `principal` may see, when given), by id."""
    if not ids:
        return {}
    # Core execution on the session's connection: the ORM's per-statement machinery cost a
    # third of hydration. The flush is the autoflush that path made (nothing pending: free).
    session.flush()
    out = {}
    for (
        i,
        title,
        symptom,
        cause,
        solution,
        workaround,
        system,
        dept,
        status,
        tags,
        links,
    ) in session.connection().execute(_statement(principal), {"ids": list(ids)}):
        out[i] = HitRow(
            i,
            title,
            symptom,
            cause,
            solution,
            workaround,
            system,
            dept,
            status,
            tags=sorted(t for t in _decoded(tags) if t is not None),
            sources=_sources(links),
        )
    return out
