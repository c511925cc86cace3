"""HTML-escaped snippets with <mark> around the words and bigrams that matched the query."""

from __future__ import annotations

import html
from collections.abc import Iterable

from indexer.analyzer import BIGRAM, Analyzer
from indexer.text import normalize

WINDOW = 120


def _bigram_marks(text: str, grams: set[str]) -> list[bool]:
    marked = [False] * len(text)
    low = text.lower()
    for i in range(len(low) - 1):
        if low[i : i + 2] in grams:
            marked[i] = marked[i + 1] = True
    return marked


def _word_marks(text: str, words: set[str], analyzer: Analyzer, marked: list[bool]) -> None:
    tok = analyzer.tokenizer
    for word, start, end in tok.jieba.tokenize(text):
        w = word.lower()
        if w in words or tok.synonyms.get(w, w) in words:
            marked[start:end] = [True] * (end - start)


def _render(text: str, marked: list[bool]) -> str:
    out, i = [], 0
    while i < len(text):
        j = i
        while j < len(text) and marked[j] == marked[i]:
            j += 1
        piece = html.escape(text[i:j], quote=False)
        out.append(f"<mark>{piece}</mark>" if marked[i] else piece)
        i = j
    return "".join(out)


def snippet(fields: Iterable[str], query_terms: Iterable[str], analyzer: Analyzer) -> str:
    """The field with most matched characters, cut to a window around the first match."""
    terms = set(query_terms)
    words = {t for t in terms if not t.startswith(BIGRAM)}
    grams = {t[1:] for t in terms if t.startswith(BIGRAM)}
    best: tuple[int, str, str] | None = None
    # Bigram marks pick the field cheaply; jieba then runs on that one field only.
    for raw in fields:
        text = normalize(raw)
        if not text:
            continue
        hits = sum(_bigram_marks(text, grams)) if grams else 0
        if best is None or hits > best[0]:
            best = (hits, text, raw)
    if best is None:
        return ""
    _hits, text, raw = best
    marked = _bigram_marks(text, grams)
    if words:
        _word_marks(text, words, analyzer, marked)
    # Show the author's characters (full-width punctuation...) when positions line up.
    raw = " ".join(raw.split())
    if len(raw) == len(text):
        text = raw
    first = marked.index(True) if any(marked) else 0
    start = max(0, min(first - WINDOW // 4, len(text) - WINDOW))
    end = min(len(text), start + WINDOW)
    body = _render(text[start:end], marked[start:end])
    return ("…" if start else "") + body + ("…" if end < len(text) else "")
