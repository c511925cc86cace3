"""The one Chinese text toolkit: normalisation, n-gram forms and character-n-gram similarity."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

_SPACE = re.compile(r"\s+")
_NON_WORD = re.compile(r"[\W_]+")


@lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc  # untyped; its pure-Python dictionaries load in ~0.3 s

    return opencc.OpenCC("t2s")


def _load_pairs(path: Path) -> dict[str, str]:
    pairs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            pairs[parts[0]] = parts[1].split(" ")[0]
    return pairs


@lru_cache(maxsize=1)
def _t2s_triggers() -> tuple[frozenset[str], frozenset[str], dict[str, tuple[str, ...]]]:
    """Characters whose presence means t2s could change the text (all of them; those that
    change it wherever they stand), and for characters that change only inside a phrase
    (么 in 么麼, 覆 in 答覆), the phrases that must occur as well.

    The pure-Python OpenCC walks every character through its phrase tree (~10 µs/char, over a
    third of index build time); text that holds none of these is left as it is, which is what
    the conversion would have returned. 么 and 俱 are everyday simplified characters (什么):
    of the distinct entry texts at 100k that went through the conversion, a third held only
    such a character and came back unchanged.
    """
    import opencc

    folder = Path(opencc.__file__).parent / "dictionary"
    chars = {k for k, v in _load_pairs(folder / "TSCharacters.txt").items() if k != v}
    phrases: dict[str, set[str]] = {}
    for key, value in _load_pairs(folder / "TSPhrases.txt").items():
        if len(key) != len(value):
            chars.update(key)  # none in the shipped table; kept exact should one appear
            continue
        for a, b in zip(key, value, strict=True):
            if a != b and a not in chars:
                phrases.setdefault(a, set()).add(key)
    inside = {c: tuple(sorted(p)) for c, p in phrases.items() if c not in chars}
    return frozenset(chars | inside.keys()), frozenset(chars), inside


def needs_t2s(text: str) -> bool:
    """Whether the traditional → simplified conversion could change `text`."""
    anywhere, chars, phrases = _t2s_triggers()
    if anywhere.isdisjoint(text):  # one pass over the text for the common case
        return False
    if not chars.isdisjoint(text):
        return True
    return any(c in text and any(p in text for p in keys) for c, keys in phrases.items())


def normalize(text: str, *, lower: bool = False) -> str:
    """NFKC (full-width → half-width), traditional → simplified, collapsed whitespace."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    if needs_t2s(text):
        text = _t2s().convert(text)
    text = _SPACE.sub(" ", text).strip()
    return text.lower() if lower else text


def ngram_text(text: str) -> str:
    """Normalised, lower-cased, punctuation → one space: what character n-grams are taken of."""
    return _NON_WORD.sub(" ", normalize(text, lower=True)).strip()


def fold(text: str) -> str:
    """Normalised, lower-cased, with punctuation and spaces removed: a comparison key."""
    return _NON_WORD.sub("", normalize(text, lower=True))


def char_ngrams(text: str, sizes: tuple[int, ...] = (2,)) -> Counter[str]:
    """Counts of character n-grams of `fold(text)`; text shorter than every size is one gram."""
    key = fold(text)
    grams: Counter[str] = Counter()
    for n in sizes:
        grams.update(key[i : i + n] for i in range(len(key) - n + 1))
    if not grams and key:
        grams[key] = 1
    return grams


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Cosine similarity of two sparse count vectors (0 when either is empty)."""
    if not a or not b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    dot = sum(v * b.get(k, 0.0) for k, v in a.items())
    if not dot:
        return 0.0
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb)
