"""HTML-escaped snippets with <mark> around the words and bigrams that matched the query."""

from __future__ import annotations

import html
from collections.abc import Iterable

from indexer.analyzer import BIGRAM, Analyzer
from indexer.text import normalize

WINDOW = 120


def _bigram_marks(text: str, grams: set[str]) -> bytearray:
    # str.find per gram (a query has a few dozen) rather than a Python step per character.
    marked = bytearray(len(text))
    low = text.lower()
    for gram in grams:
        i = low.find(gram)
        while i >= 0:
            marked[i] = marked[i + 1] = 1
            i = low.find(gram, i + 1)
    return marked


def _word_marks(text: str, words: set[str], analyzer: Analyzer, marked: bytearray) -> None:
    tok = analyzer.tokenizer
    tok.initialize()
    # jieba's `tokenize` is its `cut` with running offsets; the cached cut gives the same
    # words and segments each clause once per process instead of once per hit.
    start = 0
    for word in tok.cached.cut(text):
        end = start + len(word)
        w = word.lower()
        if w in words or tok.synonyms.get(w, w) in words:
            marked[start:end] = b"\x01" * (end - start)
        start = end


def _render(text: str, marked: bytearray) -> str:
    out, i = [], 0
    while i < len(text):
        flag = marked[i]
        j = marked.find(b"\x00" if flag else b"\x01", i)
        j = len(text) if j < 0 else j
        piece = html.escape(text[i:j], quote=False)
        out.append(f"<mark>{piece}</mark>" if flag else piece)
        i = j
    return "".join(out)


class Marker:
    """One query's words and bigrams, split once and used on every hit of its answer."""

    def __init__(self, query_terms: Iterable[str], analyzer: Analyzer) -> None:
        terms = set(query_terms)
        self.analyzer = analyzer
        self.words = {t for t in terms if not t.startswith(BIGRAM)}
        # A lone CJK character is a one-character "bigram" term; it never marks anything.
        self.grams = {t[1:] for t in terms if t.startswith(BIGRAM) and len(t) == 3}

    def snippet(self, fields: Iterable[str]) -> str:
        """The field with most matched characters, cut to a window around the first match."""
        best: tuple[int, str, str, bytearray] | None = None
        # Bigram marks pick the field cheaply; jieba then runs on that one field only.
        for raw in fields:
            text = normalize(raw)
            if not text:
                continue
            marked = _bigram_marks(text, self.grams)
            hits = marked.count(1)
            if best is None or hits > best[0]:
                best = (hits, text, raw, marked)
        if best is None:
            return ""
        _hits, text, raw, marked = best
        if self.words:
            _word_marks(text, self.words, self.analyzer, marked)
        # Show the author's characters (full-width punctuation...) when positions line up.
        raw = " ".join(raw.split())
        if len(raw) == len(text):
            text = raw
        first = max(marked.find(1), 0)
        start = max(0, min(first - WINDOW // 4, len(text) - WINDOW))
        end = min(len(text), start + WINDOW)
        body = _render(text[start:end], marked[start:end])
        return ("…" if start else "") + body + ("…" if end < len(text) else "")


def snippet(fields: Iterable[str], query_terms: Iterable[str], analyzer: Analyzer) -> str:
    """The field with most matched characters, cut to a window around the first match."""
    return Marker(query_terms, analyzer).snippet(fields)
