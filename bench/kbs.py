"""Knowledge bases and labelled sets of several sizes for the quality and confidence benchmarks.

Set "written" is bench/eval/queries_{a,b}.jsonl (queries written by hand, 31 with no answer).
Set "held-out tickets" is built differently: one linked ticket per fault family (never the
entry's source) is taken out of the KB before anything is indexed or calibrated, and its
title + symptom is the query. KBs: "small" leaves out up to 27 families that are alone in
their system and module (their queries become no-answer queries: near misses by construction),
together with every near duplicate of a left-out entry (`indexer.neardup`, the engine's own
measure, decided on the entries alone before any query is asked: a copy left in the KB would
still answer, and the query would be no "no answer"); "demo" keeps all 108, "large" adds 900
synthetic entries recombined from one symptom vocabulary.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from typing import Any

from bench.evalkb import family_kb, load_queries, load_tickets
from bench.synth import synthetic_tickets
from indexer.analyzer import Analyzer
from indexer.docs import EntryDoc
from indexer.lexical import LexicalIndex
from indexer.neardup import near_duplicates
from kbsvc.search.eval import Judgment

SYNTHETIC = 900
DROPPED = 27  # families the small KB leaves out
SIBLING = 0.3  # title+symptom bigram overlap above which another family may answer too


def _held_out(tickets: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[Judgment]]:
    fams: dict[str, list[dict[str, Any]]] = {}
    for t in sorted(tickets, key=lambda t: t["external_id"]):
        fams.setdefault(t.get("fault_key") or t["external_id"], []).append(t)
    keep, judged = [], []
    for members in fams.values():
        base = next((t for t in members if t.get("solution")), members[0])
        spare = [t for t in members if t is not base]
        if len(spare) >= 2:  # the entry keeps its source and at least one linked ticket
            out = spare[-1]
            query = "\n".join(x for x in (out["title"], out["symptom"]) if x)
            judged.append(Judgment(query, [base["external_id"]], "held_out"))
            members = [t for t in members if t is not out]
        keep += members
    return keep, judged


def _grams(d: EntryDoc) -> set[str]:
    text = d.title + d.symptom
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _overlap(a: EntryDoc, b: EntryDoc) -> float:
    ga, gb = _grams(a), _grams(b)
    return len(ga & gb) / max(1, min(len(ga), len(gb)))


def _with_copies(docs: Sequence[EntryDoc], gone: set[int]) -> set[int]:
    """`gone` and, transitively, every near duplicate of it among `docs` (lexical index over
    the entries with their linked tickets, as the engine indexes them)."""
    lex, analyzer = LexicalIndex(), Analyzer()
    for d in docs:
        lex.add(d.id, analyzer.weighted(d.fields()), d.meta())
    lex.compact()
    out, todo = set(gone), sorted(gone)
    while todo:
        new = near_duplicates(lex, todo.pop()) - out
        out |= new
        todo += sorted(new)
    return out


def _drop(judgments: Sequence[Judgment], resolve: dict[str, set[str]]) -> list[Judgment]:
    """Judgments whose answers all left the KB become no-answer queries."""
    out = []
    for j in judgments:
        if j.relevant and not any(resolve.get(r) for r in j.relevant):
            out.append(Judgment(j.query, [], j.kind or "dropped"))
        else:
            out.append(j)
    return out


def build(size: str) -> tuple[list[EntryDoc], dict[str, set[str]], dict[str, list[Judgment]]]:
    """(docs, ticket id → entry ids, {set name: judgments}) for "small", "demo" or "large"."""
    tickets, held = _held_out(load_tickets())
    docs, resolve = family_kb(tickets)
    if size == "small":
        # Only families alone in their system and module leave: demo families come in
        # near-duplicate pairs, and dropping one of a pair leaves an entry that still answers.
        pairs = Counter((d.system, d.module) for d in docs)
        alone = [
            d.id
            for d in docs
            if pairs[(d.system, d.module)] == 1
            and max(_overlap(d, o) for o in docs if o is not d) < SIBLING
        ]
        # A left-out entry's near duplicates leave with it, else they would still answer.
        gone = _with_copies(docs, set(alone[1::2][:DROPPED]))
        docs = [d for d in docs if d.id not in gone]
        resolve = {k: v - {str(g) for g in gone} for k, v in resolve.items()}
    if size == "large":
        start = max(d.id for d in docs) + 1
        for i, text in enumerate(synthetic_tickets(SYNTHETIC, seed=7)):
            head, _, rest = text.partition("，")
            docs.append(
                EntryDoc(id=start + i, title=head, symptom=text, solution=rest, system="HIS")
            )
    sets = {"written": _drop(load_queries(), resolve), "held-out tickets": _drop(held, resolve)}
    return [dataclasses.replace(d) for d in docs], resolve, sets
