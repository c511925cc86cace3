"""`auto`: the channels the KB's own evidence favours, chosen at `kbsvc reindex`.

One retriever holds every candidate channel; each candidate (a subset of channels fused by
rank) is judged on the KB's linked tickets, leave-one-out (MRR@10), and a costlier one must
beat a cheaper one by MIN_GAIN to be chosen. The choice, its reason and figures are saved in
the data directory; `auto` follows it from the next start, and /readyz and `kbsvc eval` say
what it is and why. With too little evidence (or no choice yet) `auto` stays LSA.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from indexer.calibration import MIN_EVIDENCE
from indexer.manifest import utc_now, write_atomic
from kbsvc.config import Settings

FILE = "search_choice.json"
MIN_GAIN = 0.01  # MRR@10 a costlier candidate must add to be worth its CPU
FALLBACK = "LSA"
# The choice compares candidates; it needs no full KB. Past these sizes it judges a fixed
# spread of the linked tickets on their entries plus an evenly spread sample of the rest, so
# `kbsvc reindex` of a 100k KB does not embed everything with e5 (~0.35 CPU-s an entry) twice.
MAX_JUDGMENTS = 400
MAX_DOCS = 3000
# (name, dense channels), cheapest first; all fused with the lexical channel by rank.
CANDIDATES: list[tuple[str, tuple[str, ...]]] = [
    ("lexical", ()),
    ("lexical + LSA, RRF", ("lsa",)),
    ("lexical + e5, RRF", ("e5",)),
    ("lexical + LSA + e5, RRF", ("lsa", "e5")),
]


def _variant(settings: Settings, backend: str, fusion: str, weight: float) -> Settings:
    emb = settings.embedding.model_copy(update={"backend": backend})
    search = settings.search.model_copy(update={"fusion": fusion, "dense_weight": weight})
    return settings.model_copy(update={"embedding": emb, "search": search})


def _spec(channels: tuple[str, ...]) -> str:
    return "+".join(channels) or "none"


def _spread(items: list[Any], n: int) -> list[Any]:
    """At most n items, evenly spread (deterministic, keeps the order)."""
    if len(items) <= n:
        return items
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def _bounded(judgments: list[Any], docs: list[Any]) -> tuple[list[Any], list[Any]]:
    """The judgments and entries the choice runs on, within MAX_JUDGMENTS and MAX_DOCS."""
    judgments = _spread(judgments, MAX_JUDGMENTS)
    if len(docs) <= MAX_DOCS:
        return judgments, docs
    wanted = {r for j in judgments for r in j.relevant}
    answers = [d for d in docs if str(d.id) in wanted]
    rest = [d for d in docs if str(d.id) not in wanted]
    sample = _spread(rest, max(0, MAX_DOCS - len(answers)))
    return judgments, sorted(answers + sample, key=lambda d: d.id)


def choose(settings: Settings, db_engine: Engine) -> dict[str, Any]:
    """Evaluate every candidate on the linked tickets; save and return the choice."""
    from kbsvc.search.engine import build_search_engine
    from kbsvc.search.evalrun import evaluate_loo, judgments_from_links, resolver
    from kbsvc.search.source import load_docs

    with Session(db_engine) as session:
        docs = [d for d in load_docs(session) if d.status == "published"]
        judgments, held = judgments_from_links(session)
    enough = len(judgments) >= MIN_EVIDENCE
    judgments, docs = _bounded(judgments, docs)
    rows: list[dict[str, Any]] = []
    if enough:
        wanted = sorted({c for _, chans in CANDIDATES for c in chans})
        every = _variant(settings, _spec(tuple(wanted)), "rrf", 1.0)
        search_engine = build_search_engine(every, db_engine)
        r = search_engine.build_retriever(docs)
        have = set(r.dense_channels())
        resolve = resolver(docs)
        base = r.config
        for name, chans in CANDIDATES:
            if not set(chans) <= have:
                continue  # not available on this host (or too few entries to fit on)
            weights = tuple((c, 1.0 if c in chans else 0.0) for c in sorted(have))
            r.config = dataclasses.replace(
                base, dense_weight=1.0 if chans else 0.0, channel_weights=weights
            )
            m = evaluate_loo(r, docs, judgments, held, resolve)
            figures = {k: round(float(m[k]), 4) for k in ("mrr@10", "recall@5", "ndcg@10")}
            rows.append({"name": name, "backend": _spec(chans), "fusion": "rrf", **figures})
    best = rows[0] if rows else None
    for row in rows[1:]:
        assert best is not None
        if row["mrr@10"] >= best["mrr@10"] + MIN_GAIN:
            best = row
    if best is not None:
        why = (
            f"{best['name']}: MRR@10 {best['mrr@10']:.3f} over {len(judgments)} linked tickets "
            f"(leave-one-out); " + ", ".join(f"{r['name']} {r['mrr@10']:.3f}" for r in rows)
        )
    else:
        why = f"only {len(judgments)} linked tickets (need {MIN_EVIDENCE}): auto stays {FALLBACK}"
    out = {"chosen": best, "why": why, "candidates": rows, "at": utc_now()}
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(settings.data_dir / FILE, json.dumps(out, ensure_ascii=False, indent=1).encode())
    return out


def saved(settings: Settings) -> dict[str, Any] | None:
    """The last saved choice (None: never chosen here, or unreadable)."""
    try:
        data = json.loads((settings.data_dir / FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def describe(settings: Settings) -> dict[str, Any]:
    """What `auto` runs on here and why (for /readyz and `kbsvc eval`)."""
    if settings.embedding.backend != "auto":
        return {"auto": False, "backend": settings.embedding.backend, "why": "set in settings"}
    data = saved(settings) or {}
    chosen = data.get("chosen") or None
    return {
        "auto": True,
        "backend": chosen["backend"] if chosen else "lsa",
        "fusion": chosen["fusion"] if chosen else settings.search.fusion,
        "why": data.get("why") or f"no choice yet (run `kbsvc reindex`): auto stays {FALLBACK}",
        "at": data.get("at"),
        "candidates": data.get("candidates", []),
    }


def apply(settings: Settings) -> Settings:
    """Settings with `auto` replaced by the saved choice (explicit search settings win)."""
    if settings.embedding.backend != "auto":
        return settings
    data = saved(settings) or {}
    chosen = data.get("chosen")
    if not isinstance(chosen, dict) or "backend" not in chosen:
        return settings
    explicit = settings.search.model_fields_set
    fusion = settings.search.fusion if "fusion" in explicit else chosen.get("fusion", "rrf")
    weight = settings.search.dense_weight if "dense_weight" in explicit else 1.0
    return _variant(settings, chosen["backend"], fusion, float(weight))
