"""Pinyin of terms, worked out in a short-lived child process.

pypinyin's phrase and character dictionaries take ~50 MB that it never frees; imported in
an API worker they stay for the worker's life, once per worker. The shorthand table needs
them only while it is built, so a child process computes (full pinyin, initials) per term
and exits; results are kept per process, so a rebuild after a vocabulary edit sends only
the new terms.

    python -m indexer.pinyin < terms.json > pinyin.json   (a JSON list in, an object out)
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Sequence

TIMEOUT_S = 120.0

_known: dict[str, tuple[str, str]] = {}
_lock = threading.Lock()


def compute(terms: Sequence[str]) -> dict[str, tuple[str, str]]:
    """(full pinyin, initials) of each term, with pypinyin in this process."""
    from pypinyin import Style, lazy_pinyin

    return {
        t: ("".join(lazy_pinyin(t)), "".join(lazy_pinyin(t, style=Style.FIRST_LETTER)))
        for t in terms
    }


def term_pinyin(terms: Sequence[str]) -> dict[str, tuple[str, str]]:
    """(full pinyin, initials) of each term; the ones not seen before by a child process."""
    with _lock:
        missing = [t for t in dict.fromkeys(terms) if t not in _known]
        if missing:
            done = subprocess.run(
                [sys.executable, "-m", "indexer.pinyin"],
                input=json.dumps(missing, ensure_ascii=False),
                capture_output=True,
                text=True,
                encoding="utf-8",
                check=True,
                timeout=TIMEOUT_S,
            )
            _known.update({t: (p[0], p[1]) for t, p in json.loads(done.stdout).items()})
        return {t: _known[t] for t in terms}


def main() -> None:
    """Read a JSON list of terms on stdin, write {term: [full, initials]} on stdout."""
    terms = json.loads(sys.stdin.read())
    json.dump(compute([str(t) for t in terms]), sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
