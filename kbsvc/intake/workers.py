"""Import batches prepared in a process per core while the importing process writes.

Preparing a batch (masking, keyword tags, validation: kbsvc/intake/prepare.py) is most of an
import's CPU and needs no database, so worker processes (indexer/pool.py) prepare the next
batches while this process writes the current one. Only this process touches the database,
so a batch is committed whole or not at all whatever happens to the workers, and a killed
import leaves none behind.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from indexer.pool import fork_pool, ordered
from kbsvc.intake.prepare import Plan, Row, prepare
from kbsvc.tickets.models import TicketIn

Batch = Sequence[tuple[int, TicketIn]]
_PLAN: Plan | None = None  # each worker's, set when it starts


def _start(plan: Plan) -> None:
    global _PLAN
    _PLAN = plan


def _prepare(batch: Batch) -> list[Row]:
    assert _PLAN is not None, "worker started without its plan"
    return prepare(_PLAN, batch)


def prepared(plan: Plan, batches: Sequence[Batch], workers: int) -> Iterator[list[Row]]:
    """Each batch's rows, in order; with `workers` > 1 prepared ahead in that many processes."""
    if plan.capture:
        from indexer.keywords import default_extractor

        default_extractor()  # loaded once, here: forked workers inherit it
    if workers <= 1 or len(batches) < 2:
        for batch in batches:
            yield prepare(plan, batch)
        return
    pool = fork_pool(min(workers, len(batches)), _start, (plan,))
    try:
        # One batch more than workers in flight keeps each busy while this process writes.
        yield from ordered(pool, _prepare, batches, workers + 1)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
