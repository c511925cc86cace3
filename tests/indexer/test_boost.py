"""Boosting by system/department: a nudge over the head of the fused list, built lazily."""

from __future__ import annotations

from indexer.analyzer import Analyzer
from indexer.docs import EntryDoc
from indexer.retriever import Retriever, RetrieverConfig

LEXICAL = RetrieverConfig(lexical_weight=1.0, dense_weight=0.0, method="score", learn_from_use=True)
SYSTEMS = ("HIS", "LIS", "PACS", "EMR")


def _retriever() -> Retriever:
    r = Retriever(Analyzer(), None, LEXICAL)
    docs = [
        EntryDoc(
            i,
            title="门诊打印机卡纸" if i % 3 else "打印机驱动异常",
            symptom="打印发票时卡纸" + "，重启后仍然" * (i % 4),
            system=SYSTEMS[i % 4],
            department="门诊" if i % 5 else "住院",
        )
        for i in range(1, 90)
    ]
    r.add(docs)
    return r


def test_boost_equals_nudging_the_whole_head_by_hand() -> None:
    r = _retriever()
    q = "打印机卡纸"
    boost = {"system": "PACS", "department": "住院"}
    full = r.search(q, 200).hits  # every candidate, unboosted
    head = max(5 * 4, 50)
    want = []
    for h in full[:head]:
        meta = r.lexical.meta(h.id)
        assert meta is not None
        score = h.score
        if meta.system == "PACS":
            score = min(1.0, score * 1.05)
        if meta.department == "住院":
            score = min(1.0, score * 1.02)
        want.append((h.id, score))
    want.sort(key=lambda x: (-x[1], x[0]))
    got = r.search(q, 5, boost=boost).hits
    assert [(h.id, h.score) for h in got] == want[:5]
    assert [h.id for h in got] != [h.id for h in full[:5]]  # the nudge did reorder
    plain = r.search(q, 5, boost={"system": "", "department": ""}).hits
    assert [(h.id, h.score) for h in plain] == [(h.id, h.score) for h in full[:5]]
