"""Text normalisation for index keys: NFKC, traditional → simplified, whitespace."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _t2s():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("t2s")


def normalize(text: str, *, lower: bool = False) -> str:
    """NFKC (full-width → half-width), traditional → simplified, collapsed whitespace."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    text = _t2s().convert(text)
    text = _SPACE.sub(" ", text).strip()
    return text.lower() if lower else text
