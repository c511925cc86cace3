"""`auto`: the channels and fusion the KB's own evidence favours (`kbsvc eval --choose`).

Each candidate is judged with the KB's linked tickets, leave-one-out (MRR@10); a costlier
candidate must beat a cheaper one by MIN_GAIN to be chosen. The choice, with its reason and
figures, is saved in the data directory, and `auto` follows it from the next start; without
one (or with too little evidence) `auto` stays LSA.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from indexer.calibration import MIN_EVIDENCE
from indexer.manifest import utc_now, write_atomic
from kbsvc.config import Settings

FILE = "search_choice.json"
MIN_GAIN = 0.01  # MRR@10 a costlier candidate must add to be worth its CPU
# (name, backend, fusion, dense weight), cheapest first.
CANDIDATES = [
    ("lexical", "none", "score", 0.0),
    ("lexical + LSA, score", "lsa", "score", 0.5),
    ("lexical + LSA, RRF", "lsa", "rrf", 1.0),
    ("lexical + e5, RRF", "e5", "rrf", 1.0),
]


def _variant(settings: Settings, backend: str, fusion: str, weight: float) -> Settings:
    emb = settings.embedding.model_copy(update={"backend": backend})
    search = settings.search.model_copy(update={"fusion": fusion, "dense_weight": weight})
    return settings.model_copy(update={"embedding": emb, "search": search})


def choose(settings: Settings, db_engine: Engine) -> dict[str, Any]:
    """Evaluate every candidate on the linked tickets; save and return the choice."""
    from kbsvc.search.engine import build_search_engine
    from kbsvc.search.evalrun import evaluate_loo, judgments_from_links, resolver
    from kbsvc.search.source import load_docs

    with Session(db_engine) as session:
        docs = [d for d in load_docs(session) if d.status == "published"]
        judgments, held = judgments_from_links(session)
    resolve = resolver(docs)
    rows: list[dict[str, Any]] = []
    for name, backend, fusion, weight in CANDIDATES:
        search_engine = build_search_engine(_variant(settings, backend, fusion, weight), db_engine)
        if backend != "none" and search_engine.backend == "none":
            continue  # not available on this host
        r = search_engine.build_retriever(docs)
        m = evaluate_loo(r, docs, judgments, held, resolve)
        figures = {k: round(float(m[k]), 4) for k in ("mrr@10", "recall@5", "ndcg@10")}
        rows.append(
            {"name": name, "backend": backend, "fusion": fusion, "dense_weight": weight, **figures}
        )
    best = rows[0]
    for row in rows[1:]:
        if row["mrr@10"] >= best["mrr@10"] + MIN_GAIN:
            best = row
    enough = len(judgments) >= MIN_EVIDENCE
    why = (
        f"{best['name']}: MRR@10 {best['mrr@10']:.3f} over {len(judgments)} linked tickets "
        f"(leave-one-out); " + ", ".join(f"{r['name']} {r['mrr@10']:.3f}" for r in rows)
        if enough
        else f"only {len(judgments)} linked tickets (need {MIN_EVIDENCE}): auto stays LSA"
    )
    out = {"chosen": best if enough else None, "why": why, "candidates": rows, "at": utc_now()}
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(settings.data_dir / FILE, json.dumps(out, ensure_ascii=False, indent=1).encode())
    return out


def apply(settings: Settings) -> Settings:
    """Settings with `auto` replaced by the saved choice (explicit search settings win)."""
    if settings.embedding.backend != "auto":
        return settings
    try:
        chosen = json.loads((settings.data_dir / FILE).read_text(encoding="utf-8"))["chosen"]
    except (OSError, ValueError, KeyError, TypeError):
        return settings
    if not chosen:
        return settings
    explicit = settings.search.model_fields_set
    fusion = settings.search.fusion if "fusion" in explicit else chosen["fusion"]
    weight = settings.search.dense_weight if "dense_weight" in explicit else chosen["dense_weight"]
    return _variant(settings, chosen["backend"], fusion, float(weight))
