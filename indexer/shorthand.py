"""Query shorthand: hospital-IT abbreviations (yb → 医保), full pinyin and pinyin initials.

Staff type "门诊yb结算失败", "mzsf" or "dianzibingli" into tickets. Each run of ASCII letters
in a query is read, in this order, as a known abbreviation, or split into pieces that are
abbreviations, full pinyin of a term, or pinyin initials of a term. A run the index already
knows (an English product name such as "pda") is left alone unless the table lists it.
Only queries are rewritten: entries are indexed as written, so nothing needs reindexing when
the table changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from indexer.pinyin import term_pinyin

Known = Callable[[str], bool]

_RUN = re.compile(r"[A-Za-z]+")
_CJK = re.compile(r"^[\u3400-\u9fff]{2,8}$")
MAX_RUN = 32  # longer runs are pasted identifiers or English prose, not shorthand
MAX_GUESSES = 2  # pinyin guesses kept per piece (homophones, shared initials)
# A guess from pinyin initials is weaker than a listed abbreviation or spelled-out pinyin,
# so a split into listed pieces wins over one that leans on initials.
COST = {"abbreviation": 1.0, "pinyin": 1.0, "initials": 1.5}


@dataclass(frozen=True)
class Piece:
    """One recognised piece of a run and the words it stands for."""

    text: str
    words: tuple[str, ...]
    how: str  # abbreviation | pinyin | initials


def parse_table(lines: Iterable[str]) -> dict[str, list[str]]:
    """`abbr expansion [expansion...]` lines (comments and blanks skipped) → table."""
    table: dict[str, list[str]] = {}
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, *words = line.split()
        if words and key.isascii() and key.isalpha():
            table.setdefault(key.lower(), [])
            table[key.lower()] += [w for w in words if w not in table[key.lower()]]
    return table


def shipped_table() -> dict[str, list[str]]:
    """The maintained hospital-IT abbreviation table (indexer/data/abbreviations.txt)."""
    text = (resources.files("indexer") / "data" / "abbreviations.txt").read_text("utf-8")
    return parse_table(text.splitlines())


def dictionary_terms() -> list[str]:
    """Chinese words of the shipped hospital-IT dictionary, most frequent first."""
    text = (resources.files("indexer") / "data" / "hospital_it_dict.txt").read_text("utf-8")
    rows = []
    for line in text.splitlines():
        parts = line.split()
        if parts and _CJK.match(parts[0]):
            freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
            rows.append((-freq, parts[0]))
    return [w for _, w in sorted(rows)]


class Shorthand:
    """Rewrites shorthand runs of a query into the words they stand for."""

    def __init__(
        self, abbreviations: Mapping[str, Sequence[str]], terms: Iterable[str] = ()
    ) -> None:
        self.table = {k.lower(): tuple(v) for k, v in abbreviations.items() if v}
        self.full: dict[str, list[str]] = {}
        self.initials: dict[str, list[str]] = {}
        words = [w for ws in self.table.values() for w in ws] + list(terms)
        terms_cjk = list(dict.fromkeys(w for w in words if _CJK.match(w)))
        for term, (full, first) in term_pinyin(terms_cjk).items():
            if full.isascii() and full.isalpha():
                self.full.setdefault(full, []).append(term)
            if first.isascii() and first.isalpha():
                self.initials.setdefault(first, []).append(term)

    def _pieces(self, text: str, known: Known | None) -> list[Piece]:
        out = []
        if text in self.table:
            out.append(Piece(text, self.table[text], "abbreviation"))
        for how, source in (("pinyin", self.full), ("initials", self.initials)):
            guesses = [w for w in source.get(text, []) if known is None or known(w)]
            if guesses:
                out.append(Piece(text, tuple(guesses[:MAX_GUESSES]), how))
        return out

    def split(self, run: str, known: Known | None = None) -> list[Piece] | None:
        """Cheapest split of a lower-case run into recognised pieces (None: no split)."""
        n = len(run)
        best: list[tuple[float, list[Piece]] | None] = [None] * (n + 1)
        best[0] = (0.0, [])
        for end in range(2, n + 1):
            for start in range(0, end - 1):
                prev = best[start]
                if prev is None:
                    continue
                for piece in self._pieces(run[start:end], known)[:1]:
                    cost = prev[0] + COST[piece.how]
                    cur = best[end]
                    if cur is None or cost < cur[0]:
                        best[end] = (cost, [*prev[1], piece])
        found = best[n]
        return found[1] if found else None

    def explain(self, query: str, known: Known | None = None) -> list[tuple[str, list[Piece]]]:
        """Each rewritten run of a query with the pieces it was read as."""
        out = []
        for m in _RUN.finditer(query):
            run = m.group().lower()
            if len(run) < 2 or len(run) > MAX_RUN:
                continue
            if run in self.table:
                out.append((m.group(), [Piece(run, self.table[run], "abbreviation")]))
            elif known is None or not known(run):
                pieces = self.split(run, known)
                if pieces:
                    out.append((m.group(), pieces))
        return out

    def expand(self, query: str, known: Known | None = None) -> str:
        """The query with shorthand spelled out (a run the index knows is kept beside it)."""
        if not _RUN.search(query):
            return query
        parts, pos = [], 0
        found = {run: pieces for run, pieces in self.explain(query, known)}
        for m in _RUN.finditer(query):
            pieces = found.get(m.group())
            if pieces is None:
                continue
            words = " ".join(w for p in pieces for w in p.words)
            keep = m.group() + " " if known is not None and known(m.group().lower()) else ""
            parts += [query[pos : m.start()], f" {keep}{words} "]
            pos = m.end()
        return "".join(parts) + query[pos:] if parts else query


@lru_cache(maxsize=1)
def default_shorthand() -> Shorthand:
    """The shipped abbreviation table plus pinyin of the shipped dictionary's words."""
    return Shorthand(shipped_table(), dictionary_terms())
