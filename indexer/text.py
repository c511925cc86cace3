"""Text normalisation for index keys: NFKC, traditional → simplified, whitespace."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _t2s():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("t2s")


def _load_pairs(path: Path) -> dict[str, str]:
    pairs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            pairs[parts[0]] = parts[1].split(" ")[0]
    return pairs


@lru_cache(maxsize=1)
def _t2s_triggers() -> frozenset[str]:
    """Characters whose presence means t2s could change the text.

    The pure-Python OpenCC walks every character through its phrase tree (~10 µs/char, over a
    third of index build time); text with none of these characters is left as it is, which is
    what the conversion would have returned.
    """
    import opencc

    folder = Path(opencc.__file__).parent / "dictionary"
    chars = {k for k, v in _load_pairs(folder / "TSCharacters.txt").items() if k != v}
    for key, value in _load_pairs(folder / "TSPhrases.txt").items():
        if len(key) == len(value):
            chars.update(a for a, b in zip(key, value, strict=True) if a != b)
        elif key != value:
            chars.update(key)
    return frozenset(chars)


def normalize(text: str, *, lower: bool = False) -> str:
    """NFKC (full-width → half-width), traditional → simplified, collapsed whitespace."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    if not _t2s_triggers().isdisjoint(text):
        text = _t2s().convert(text)
    text = _SPACE.sub(" ", text).strip()
    return text.lower() if lower else text
