"""Text → index terms: jieba words (synonyms folded) plus CJK character bigrams, per field."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources

from indexer.shorthand import Known, Shorthand, default_shorthand
from indexer.text import normalize
from indexer.tokenizer import ChineseTokenizer, default_tokenizer

# Bigram terms live in their own namespace so the word "医保" and the bigram 医保 stay two terms.
BIGRAM = "\x01"
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
RECENT_QUERIES = 16  # query analyses kept: the requests in flight, not a cache of past queries

# Title and symptom say what the fault looks like, which is what a new ticket describes.
DEFAULT_FIELD_WEIGHTS: dict[str, float] = {
    "title": 3.0,
    "symptom": 2.0,
    "cause": 1.0,
    "solution": 0.5,
    "workaround": 0.5,
    "meta": 1.0,  # system, module, category, tags
    "tickets": 1.0,  # text of linked tickets ("learning from use")
    # Text read from attached screenshots: OCR noise and dialog boilerplate weigh less, but an
    # error code that appears only in the picture still finds the entry.
    "ocr": 0.3,
}


@dataclass(frozen=True)
class AnalyzerConfig:
    """Which token streams make up a term list."""

    words: bool = True
    bigrams: bool = True
    fold_synonyms: bool = True
    shorthand: bool = True  # spell out abbreviations and pinyin in queries
    field_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_FIELD_WEIGHTS))


def cjk_bigrams(text: str) -> list[str]:
    """Overlapping character bigrams of each CJK run (a lone character stays a unigram)."""
    out: list[str] = []
    for run in _CJK_RUN.findall(text):
        if len(run) == 1:
            out.append(run)
        else:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


class Analyzer:
    """Turns query and entry text into weighted index terms."""

    def __init__(
        self,
        tokenizer: ChineseTokenizer | None = None,
        config: AnalyzerConfig | None = None,
        shorthand: Shorthand | None = None,
    ) -> None:
        self.tokenizer = tokenizer or default_tokenizer()
        self.config = config or AnalyzerConfig()
        self._shorthand = shorthand
        self._recent: dict[str, tuple[str, ...]] = {}  # query text → its terms, a few only

    @property
    def shorthand(self) -> Shorthand:
        """The query shorthand table (the shipped one unless a caller set its own)."""
        if self._shorthand is None:
            self._shorthand = default_shorthand()
        return self._shorthand

    @shorthand.setter
    def shorthand(self, value: Shorthand) -> None:
        self._shorthand = value  # one reference swap: readers see the old or the new table

    def expand(self, query: str, known: Known | None = None) -> str:
        """The query with shorthand spelled out (unchanged when shorthand is off)."""
        return self.shorthand.expand(query, known) if self.config.shorthand else query

    def terms(self, text: str) -> list[str]:
        """Index terms of one text, in order (words first, then bigrams)."""
        out: list[str] = []
        norm = normalize(text)  # once for both streams: a rebuild normalises every field
        if self.config.words:
            fold = self.config.fold_synonyms
            out.extend(self.tokenizer.tokens(norm, fold_synonyms=fold, normalized=True))
        if self.config.bigrams:
            stop = self.tokenizer.stopwords
            out.extend(BIGRAM + g for g in cjk_bigrams(norm.lower()) if g not in stop)
        return out

    def weighted(self, fields: Mapping[str, str]) -> dict[str, float]:
        """Term frequencies over named fields, each field scaled by its weight."""
        tf: dict[str, float] = {}
        weights = self.config.field_weights
        for name, text in fields.items():
            w = weights.get(name, 1.0)
            if not text or w <= 0:
                continue
            for term in self.terms(text):
                tf[term] = tf.get(term, 0.0) + w
        return tf

    def query_terms(self, text: str) -> list[str]:
        """Distinct query terms in first-seen order."""
        # Ranking, confidence and snippets each ask for the terms of one query in a request.
        terms = self._recent.get(text)
        if terms is None:
            terms = tuple(dict.fromkeys(self.terms(text)))
            if len(self._recent) >= RECENT_QUERIES:
                self._recent = {}  # a swap, not clear(): another request may be reading it
            self._recent[text] = terms
        return list(terms)

    def signature(self) -> str:
        """Hash of the dictionaries and settings that shape the terms (stored in manifests)."""
        h = hashlib.sha256()
        data = resources.files("indexer") / "data"
        for name in ("hospital_it_dict.txt", "synonyms.txt", "stopwords.txt"):
            h.update((data / name).read_bytes())
        if self.tokenizer.user_dict:
            h.update(self.tokenizer.user_dict.read_bytes())
        cfg = self.config
        h.update(
            repr(
                (cfg.words, cfg.bigrams, cfg.fold_synonyms, sorted(cfg.field_weights.items()))
            ).encode()
        )
        return h.hexdigest()[:16]


def display_term(term: str) -> str:
    """A term as a person would read it (bigram marker dropped)."""
    return term[1:] if term.startswith(BIGRAM) else term


def readable_terms(terms: Iterable[str]) -> list[str]:
    """Matched terms for 'reasons': the words; bare bigrams only when no word matched."""
    terms = list(terms)
    words = [t for t in terms if not t.startswith(BIGRAM)]
    return list(dict.fromkeys(words or [t[1:] for t in terms]))
