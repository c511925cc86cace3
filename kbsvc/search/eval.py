"""Ranking metrics and judgment files: MRR@10, nDCG@10, Recall@5/10, P@5."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

METRICS = ("mrr@10", "ndcg@10", "recall@5", "recall@10", "p@5")


@dataclass
class Judgment:
    """One query and the ids that answer it (empty: no right answer exists)."""

    query: str
    relevant: list[str] = field(default_factory=list)
    kind: str = ""


def load_judgments(path: Path) -> list[Judgment]:
    """Read JSONL lines {"query", "relevant", "kind"?}; blank lines are skipped."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out.append(
                Judgment(
                    str(row["query"]),
                    [str(r) for r in row.get("relevant", [])],
                    str(row.get("kind", "")),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: bad judgment line ({exc})") from None
    return out


def query_metrics(ranked: Sequence[str], relevant: Iterable[str]) -> dict[str, float]:
    """Metrics of one ranked list of ids against a set of relevant ids (binary gains)."""
    rel = set(relevant)
    out = dict.fromkeys(METRICS, 0.0)
    if not rel:
        return out
    for i, doc in enumerate(ranked[:10]):
        if doc in rel:
            out["mrr@10"] = 1.0 / (i + 1)
            break
    dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(ranked[:10]) if d in rel)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(rel), 10)))
    out["ndcg@10"] = dcg / ideal
    out["recall@5"] = len(rel.intersection(ranked[:5])) / len(rel)
    out["recall@10"] = len(rel.intersection(ranked[:10])) / len(rel)
    out["p@5"] = len(rel.intersection(ranked[:5])) / 5.0
    return out


def evaluate(
    judgments: Sequence[Judgment],
    rank: Callable[[str], Sequence[str]],
    resolve: Callable[[str], set[str]] | None = None,
) -> dict[str, Any]:
    """Mean metrics over answerable judgments; `resolve` maps a judged id to entry ids."""
    totals = dict.fromkeys(METRICS, 0.0)
    n = 0
    for j in judgments:
        if not j.relevant:
            continue
        rel: set[str] = set()
        for r in j.relevant:
            rel |= resolve(r) if resolve else {r}
        scores = query_metrics([str(x) for x in rank(j.query)], rel)
        for key, value in scores.items():
            totals[key] += value
        n += 1
    means = {k: (v / n if n else 0.0) for k, v in totals.items()}
    return {"queries": n, **means}
