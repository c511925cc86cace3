"""Snippets: the string-search marker gives what the per-character reference gave."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest

from indexer.analyzer import BIGRAM, Analyzer
from indexer.text import normalize
from kbsvc.search.snippet import WINDOW, snippet

DEMO = Path(__file__).resolve().parents[3] / "kbsvc/demo/data/tickets_a.jsonl"
QUERIES = [
    "医生站登录提示证书过期，U盾插上没反应",
    "收费处发票打印机卡纸 打出来位置偏移",
    "HIS 保存病历一直转圈 ORA-12541",
    "PACS影像调阅很慢",
    "自助机读卡失败",
    "么",
]


def _reference(fields: list[str], query_terms: list[str], analyzer: Analyzer) -> str:
    """The first implementation: a Python step per character and jieba.tokenize per hit."""
    terms = set(query_terms)
    words = {t for t in terms if not t.startswith(BIGRAM)}
    grams = {t[1:] for t in terms if t.startswith(BIGRAM)}

    def bigram_marks(text: str) -> list[bool]:
        marked = [False] * len(text)
        low = text.lower()
        for i in range(len(low) - 1):
            if low[i : i + 2] in grams:
                marked[i] = marked[i + 1] = True
        return marked

    best: tuple[int, str, str] | None = None
    for raw in fields:
        text = normalize(raw)
        if not text:
            continue
        hits = sum(bigram_marks(text)) if grams else 0
        if best is None or hits > best[0]:
            best = (hits, text, raw)
    if best is None:
        return ""
    _hits, text, raw = best
    marked = bigram_marks(text)
    tok = analyzer.tokenizer
    if words:
        for word, start, end in tok.jieba.tokenize(text):
            w = word.lower()
            if w in words or tok.synonyms.get(w, w) in words:
                marked[start:end] = [True] * (end - start)
    raw = " ".join(raw.split())
    if len(raw) == len(text):
        text = raw
    first = marked.index(True) if any(marked) else 0
    start = max(0, min(first - WINDOW // 4, len(text) - WINDOW))
    end = min(len(text), start + WINDOW)
    out, i = [], start
    while i < end:
        j = i
        while j < end and marked[j] == marked[i]:
            j += 1
        piece = html.escape(text[i:j], quote=False)
        out.append(f"<mark>{piece}</mark>" if marked[i] else piece)
        i = j
    return ("…" if start else "") + "".join(out) + ("…" if end < len(text) else "")


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer()


def test_snippets_match_the_reference_on_demo_tickets(analyzer: Analyzer) -> None:
    tickets = [json.loads(line) for line in DEMO.read_text(encoding="utf-8").splitlines()][:60]
    queries = QUERIES + [t["title"] for t in tickets[:10]]
    compared = 0
    for q in queries:
        terms = analyzer.query_terms(q)
        for t in tickets:
            fields = [t.get(f, "") for f in ("symptom", "title", "solution", "cause")]
            assert snippet(fields, terms, analyzer) == _reference(fields, terms, analyzer), q
            compared += 1
    assert compared >= 900


def test_marks_overlapping_bigrams_words_and_escapes(analyzer: Analyzer) -> None:
    terms = analyzer.query_terms("打印机打印 <b>")
    text = "门诊<b>打印机打印打印失败"
    got = snippet([text], terms, analyzer)
    assert got == _reference([text], terms, analyzer)
    assert "&lt;" in got and "<mark>打印机打印打印</mark>" in got


def test_long_field_is_windowed_around_the_first_match(analyzer: Analyzer) -> None:
    text = "无关内容" * 60 + "打印机卡纸" + "其他描述" * 60
    terms = analyzer.query_terms("打印机卡纸")
    got = snippet([text, ""], terms, analyzer)
    assert got == _reference([text, ""], terms, analyzer)
    assert got.startswith("…") and got.endswith("…") and "<mark>" in got
    assert snippet(["", ""], terms, analyzer) == ""
