"""The evaluation KB built straight from the demo ticket JSONL (no database needed)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from indexer.docs import EntryDoc
from kbsvc.search.eval import Judgment, load_judgments

ROOT = Path(__file__).resolve().parents[1]
TICKET_FILES = ("tickets_a.jsonl", "tickets_b.jsonl")
QUERY_FILES = ("queries_a.jsonl", "queries_b.jsonl")


def _first_existing(*candidates: Path) -> Path:
    for c in candidates:
        if c.exists():
            return c
    raise FileNotFoundError(candidates[0])


def load_tickets() -> list[dict[str, Any]]:
    """Demo tickets (kbsvc/demo/data)."""
    rows = []
    for name in TICKET_FILES:
        path = _first_existing(
            ROOT / "kbsvc/demo/data" / name, Path("/work/main/kbsvc/demo/data") / name
        )
        rows += [json.loads(ln) for ln in path.read_text(encoding="utf-8").splitlines() if ln]
    return rows


def load_queries() -> list[Judgment]:
    """The labelled hospital-IT eval set (bench/eval)."""
    out: list[Judgment] = []
    for name in QUERY_FILES:
        out += load_judgments(
            _first_existing(ROOT / "bench/eval" / name, Path("/work/main/bench/eval") / name)
        )
    return out


def ticket_text(t: dict[str, Any]) -> str:
    """What a linked ticket contributes to its entry: the requester-side words."""
    return "\n".join(
        x for x in (t.get("title", ""), t.get("symptom", ""), t.get("description", "")) if x
    )


def family_kb(tickets: list[dict[str, Any]]) -> tuple[list[EntryDoc], dict[str, set[str]]]:
    """One published entry per fault family (first ticket with a solution is the source,
    the rest cite it), as `kbsvc demo` builds it. Returns docs and ticket id → entry ids."""
    fams: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in tickets:
        fams[t.get("fault_key") or t["external_id"]].append(t)
    docs, resolve = [], {}
    for n, (_key, members) in enumerate(sorted(fams.items()), 1):
        members.sort(key=lambda t: t["external_id"])
        base = next((t for t in members if t.get("solution")), members[0])
        tags = tuple(
            x
            for x in str(base.get("tags", "")).replace("，", "、").replace(",", "、").split("、")
            if x
        )
        docs.append(
            EntryDoc(
                id=n,
                title=base["title"],
                symptom=base["symptom"],
                cause=base.get("cause", ""),
                solution=base.get("solution", ""),
                workaround=base.get("workaround", ""),
                system=base.get("system", ""),
                module=base.get("module", ""),
                department=base.get("department", ""),
                category=base.get("category", ""),
                tags=tags,
                ticket_texts=[ticket_text(t) for t in members],
                sources=[("demo", t["external_id"]) for t in members],
            )
        )
        for t in members:
            resolve[t["external_id"]] = {str(n)}
    return docs, resolve


def ticket_kb(tickets: list[dict[str, Any]]) -> tuple[list[EntryDoc], dict[str, set[str]]]:
    """One entry per ticket with a solution, linked only to itself (no learning from use)."""
    docs, resolve = [], {}
    for n, t in enumerate(sorted(tickets, key=lambda t: t["external_id"]), 1):
        if not t.get("solution"):
            continue
        docs.append(
            EntryDoc(
                id=n,
                title=t["title"],
                symptom=t["symptom"],
                cause=t.get("cause", ""),
                solution=t.get("solution", ""),
                workaround=t.get("workaround", ""),
                system=t.get("system", ""),
                module=t.get("module", ""),
                department=t.get("department", ""),
                category=t.get("category", ""),
                sources=[("demo", t["external_id"])],
            )
        )
        resolve[t["external_id"]] = {str(n)}
    return docs, resolve
