"""`kbsvc eval`: judgments against the configured database, optionally per channel."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from sqlmodel import Session

from indexer import calibration
from kbsvc.search.eval import evaluate, load_judgments
from kbsvc.search.evalrun import (
    confidence_on,
    evaluate_loo,
    judgments_from_links,
    rank_fn,
    resolver,
)


def run(
    path: Path | None,
    *,
    compare: bool = False,
    from_links: bool = False,
) -> list[dict[str, Any]]:
    """Metrics rows, one per configuration evaluated."""
    from kbsvc import db
    from kbsvc.config import Settings
    from kbsvc.search.engine import build_search_engine
    from kbsvc.search.source import load_docs

    settings = Settings()
    db_engine = db.make_engine(settings)
    db.upgrade(db_engine)
    search_engine = build_search_engine(settings, db_engine)
    with Session(db_engine) as session:
        docs = [d for d in load_docs(session) if d.status == "published"]
        held: dict[str, tuple[int, str]] = {}
        if from_links:
            judgments, held = judgments_from_links(session)
        else:
            assert path is not None
            judgments = load_judgments(path)
    resolve = resolver(docs)
    base = search_engine.config.retriever
    configs = [("current", base)]
    if compare:
        configs = [
            ("lexical only", dataclasses.replace(base, dense_weight=0.0)),
            ("dense only", dataclasses.replace(base, lexical_weight=0.0, dense_weight=1.0)),
            ("fused (current)", base),
        ]
    rows = []
    for name, cfg in configs:
        if cfg.lexical_weight == 0 and search_engine.backend == "none":
            continue  # no dense channel configured
        r = search_engine.build_retriever(docs, cfg)
        if from_links:
            metrics = evaluate_loo(r, docs, judgments, held, resolve)
        else:
            metrics = evaluate(judgments, rank_fn(r), resolve)
        # The operating point `kbsvc reindex` would fit here, and how it bands these queries.
        cal = calibration.calibrate(r, docs, search_engine.calibration_key(r))
        point = {"source": cal.source, "high": round(cal.high, 4), "medium": round(cal.medium, 4)}
        on_set = {} if from_links else confidence_on(r, cal, judgments, resolve)
        rows.append({"name": name, **metrics, "confidence": {**point, **cal.report, **on_set}})
    return rows
