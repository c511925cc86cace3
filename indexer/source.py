"""What the search engine follows: an ordered change sequence and the documents it names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from indexer.docs import EntryDoc

Op = Literal["upsert", "delete"]


@dataclass(frozen=True)
class Change:
    """One step of the sequence: entry `entry_id` was written or deleted at `seq`."""

    seq: int
    entry_id: int
    op: Op


class ChangeSource(Protocol):
    """The engine's only view of the source of truth (the application implements it).

    Contract: sequence numbers increase in commit order; `load_docs` returns the current
    state, so a document newer than the change that named it is fine (a later change
    re-applies it) and an id missing from its result has been deleted.
    """

    def latest_seq(self) -> int:
        """Highest committed sequence number (0 when nothing changed yet)."""
        ...

    def changes_since(self, seq: int) -> Sequence[Change]:
        """Changes after `seq`, in sequence order (possibly a bounded prefix)."""
        ...

    def load_docs(self, ids: Sequence[int] | None = None) -> list[EntryDoc]:
        """Documents for `ids` (every document when None), sorted by id."""
        ...
