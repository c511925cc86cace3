"""Chinese tokenizer: a private jieba instance with the hospital-IT dictionary and synonyms."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from pathlib import Path

import jieba

from indexer.text import normalize

DATA = resources.files("indexer") / "data"


def _lines(name: str) -> list[str]:
    text = (DATA / name).read_text(encoding="utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


class CachedCut:
    """jieba's `cut`, with each block (a run of Chinese characters, or a run between two)
    segmented once and remembered.

    jieba segments every block on its own (a DAG over the dictionary, then the HMM), so the
    words are the ones `cut` gives. Clauses repeat: an imported ticket's clauses ("请尽快处理",
    "重启后仍然") recur thousands of times, and a captured entry's title and symptom come back
    in its source ticket's text, which the index analyses too; each is segmented once.
    """

    MAX_BLOCKS = 50_000  # ~15 MB at most; the cache starts over when full

    def __init__(self, tokenizer: jieba.Tokenizer) -> None:
        self.tokenizer = tokenizer
        self.han = jieba.re_han_default
        self.blocks: dict[str, list[str]] = {}

    def cut(self, sentence: str) -> Iterator[str]:
        """The words of `sentence`, as `jieba.Tokenizer.cut(sentence)` (HMM on) gives them."""
        for block in self.han.split(sentence):
            if not block:
                continue
            words = self.blocks.get(block)
            if words is None:
                if len(self.blocks) >= self.MAX_BLOCKS:
                    self.blocks = {}  # a swap, not clear(): a reader may hold the old dict
                words = self.blocks[block] = list(self.tokenizer.cut(block))
            yield from words


class ChineseTokenizer:
    """jieba as an object (never the global one) plus stopwords and synonym folding."""

    def __init__(self, user_dict: Path | None = None) -> None:
        self._jieba = jieba.Tokenizer()
        self._lock = threading.Lock()
        self.user_dict = user_dict
        self.stopwords = frozenset(_lines("stopwords.txt"))
        self.synonyms: dict[str, str] = {}
        for line in _lines("synonyms.txt"):
            terms = line.split()
            for term in terms[1:]:
                self.synonyms.setdefault(term.lower(), terms[0].lower())
        self._ready = False
        self.cached = CachedCut(self._jieba)

    def initialize(self) -> None:
        """Load the dictionaries now (~0.5 s) rather than on the first query."""
        with self._lock:
            if self._ready:
                return
            # jieba announces its dictionary build on stderr at DEBUG; CLI output stays clean.
            jieba.setLogLevel(logging.WARNING)
            self._jieba.initialize()
            with resources.as_file(DATA / "hospital_it_dict.txt") as path:
                self._jieba.load_userdict(str(path))
            if self.user_dict:
                self._jieba.load_userdict(str(self.user_dict))
            self._ready = True

    def cut(self, text: str, *, normalized: bool = False) -> list[str]:
        """Raw jieba words of normalised text (case kept so the dictionary matches);
        `normalized`: the caller already applied `normalize`."""
        self.initialize()
        return [w for w in self.cached.cut(text if normalized else normalize(text)) if w.strip()]

    def tokens(
        self, text: str, *, fold_synonyms: bool = True, normalized: bool = False
    ) -> list[str]:
        """Lower-cased index tokens: stopwords and punctuation dropped, synonyms folded."""
        out = []
        for word in self.cut(text, normalized=normalized):
            token = word.lower()
            if token in self.stopwords or not any(ch.isalnum() for ch in token):
                continue
            out.append(self.synonyms.get(token, token) if fold_synonyms else token)
        return out

    @property
    def jieba(self) -> jieba.Tokenizer:
        """The underlying jieba instance (initialised)."""
        self.initialize()
        return self._jieba


@lru_cache(maxsize=1)
def default_tokenizer() -> ChineseTokenizer:
    """Process-wide tokenizer with the shipped dictionary."""
    return ChineseTokenizer()
