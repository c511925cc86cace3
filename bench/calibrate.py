"""Calibrate confidence bands on the eval set and write kbsvc/search/confidence.json.

    python -m bench.calibrate [--dry-run]

For each shipped configuration (lexical only, and fused with each dense backend at the default
weights) the top-1 fused score of every query is collected on the demo KB. `high` is set just
above the best no-answer score, so a query without a right answer never gets a high-confidence
suggestion; `medium` maximises (answerable queries confident) + (no-answer queries not
confident) with at least 80 % of no-answer queries left not confident.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from bench.evalkb import family_kb, load_queries, load_tickets
from indexer.analyzer import Analyzer
from indexer.retriever import RetrieverConfig
from kbsvc.config import Settings
from kbsvc.search.engine import retriever_config
from kbsvc.search.evalrun import PUBLISHED, offline_retriever

OUT = Path(__file__).resolve().parents[1] / "kbsvc/search/confidence.json"


def _scores(
    backend: str | None, cfg: RetrieverConfig
) -> tuple[list[float], list[float], list[bool]]:
    docs, res = family_kb(load_tickets())
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    r = offline_retriever(docs, Analyzer(), backend, cfg, settings)
    answerable, none_, correct = [], [], []
    for j in load_queries():
        ranked = r.search(j.query, 5, PUBLISHED)
        top = ranked.hits[0] if ranked.hits else None
        score = top.score if top else 0.0
        if j.relevant:
            answerable.append(score)
            rel = set().union(*(res.get(x, set()) for x in j.relevant))
            correct.append(top is not None and str(top.id) in rel)
        else:
            none_.append(score)
    return answerable, none_, correct


def choose(answerable: list[float], none_: list[float]) -> dict[str, Any]:
    high = round(max(none_) * 1.02 + 1e-4, 4) if none_ else 0.5
    best = (-1.0, high)
    for t in sorted(set(answerable + none_)):
        if t > high:
            break
        no_ok = sum(s < t for s in none_) / max(1, len(none_))
        if no_ok < 0.8:
            continue
        yes_ok = sum(s >= t for s in answerable) / max(1, len(answerable))
        if yes_ok + no_ok > best[0]:
            best = (yes_ok + no_ok, t)
    medium = round(best[1], 4)
    return {
        "high": high,
        "medium": medium,
        "answerable_high": round(sum(s >= high for s in answerable) / len(answerable), 3),
        "answerable_confident": round(sum(s >= medium for s in answerable) / len(answerable), 3),
        "no_answer_not_high": round(sum(s < high for s in none_) / max(1, len(none_)), 3),
        "no_answer_not_confident": round(sum(s < medium for s in none_) / max(1, len(none_)), 3),
        "answerable": len(answerable),
        "no_answer": len(none_),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("--backends", default="lsa,sbert")
    args = ap.parse_args()
    base = retriever_config(Settings(_env_file=None).search)  # type: ignore[call-arg]
    plans: list[tuple[str, str | None, RetrieverConfig]] = [
        ("lexical", None, dataclasses.replace(base, dense_weight=0.0))
    ]
    for b in filter(None, args.backends.split(",")):
        plans.append((f"{b}:{base.method}", b, base))
    thresholds = {}
    for key, backend, cfg in plans:
        answerable, none_, correct = _scores(backend, cfg)
        thresholds[key] = choose(answerable, none_)
        thresholds[key]["top1_correct"] = round(sum(correct) / len(correct), 3)
        print(key, thresholds[key])
    if not args.dry_run:
        doc = {
            "note": "written by bench/calibrate.py on the demo KB and bench/eval queries",
            "thresholds": thresholds,
        }
        OUT.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
