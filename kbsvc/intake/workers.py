"""Import batches parsed and prepared in a process per core while the importing process writes.

Parsing a row (validation) and preparing it (masking, keyword tags: kbsvc/intake/prepare.py)
are most of an import's CPU and need no database, so worker processes (indexer/pool.py) do
both for the next batches while this process writes the current one. Only this process
touches the database, so a batch is committed whole or not at all whatever happens to the
workers, and a killed import leaves none behind.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from indexer.pool import fork_pool, ordered
from kbsvc.intake.models import RowError
from kbsvc.intake.parsing import Reading, parse_rows
from kbsvc.intake.prepare import Plan, Row, prepare

Batch = Sequence[tuple[int, dict[str, Any]]]  # (line, the row's values as read)
_WORK: tuple[Plan, Reading] | None = None  # each worker's, set when it starts


@dataclass
class Prepared:
    """A batch parsed and prepared: a row per valid line, in order, and the others' errors."""

    rows: list[Row]
    ids: list[str]  # each row's ticket id as parsed (the file's duplicates are found by it)
    errors: list[RowError]


def prepare_batch(plan: Plan, reading: Reading, batch: Batch) -> Prepared:
    """Parse a batch's rows, then prepare the valid ones."""
    parsed, errors = parse_rows(batch, reading)
    rows = prepare(plan, [(p.line, p.item) for p in parsed])
    return Prepared(rows, [p.item.resolved_external_id() for p in parsed], errors)


def _start(plan: Plan, reading: Reading) -> None:
    global _WORK
    _WORK = (plan, reading)


def _prepare(batch: Batch) -> Prepared:
    assert _WORK is not None, "worker started without its plan"
    return prepare_batch(*_WORK, batch)


def prepared(
    plan: Plan, reading: Reading, batches: Sequence[Batch], workers: int
) -> Iterator[Prepared]:
    """Each batch parsed and prepared, in order; with `workers` > 1 ahead in that many
    processes."""
    if plan.capture:
        from indexer.keywords import default_extractor

        default_extractor()  # loaded once, here: forked workers inherit it
    if workers <= 1 or len(batches) < 2:
        for batch in batches:
            yield prepare_batch(plan, reading, batch)
        return
    pool = fork_pool(min(workers, len(batches)), _start, (plan, reading))
    try:
        # One batch more than workers in flight keeps each busy while this process writes.
        yield from ordered(pool, _prepare, batches, workers + 1)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
