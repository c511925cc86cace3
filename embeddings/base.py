"""The Embedder contract and a base class that owns batching and L2 normalisation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

Kind = Literal["query", "passage"]


class EmbedderError(RuntimeError):
    """Base of embedding failures that a caller can report or fall back from."""


class EmbedderUnavailable(EmbedderError):
    """A backend's dependency or model files are missing."""


class NotFitted(EmbedderError):
    """A corpus-fitted backend was used before `fit` or `load`."""


class UnknownBackend(EmbedderError, ValueError):
    """The configured backend name is not one the factory knows."""


class StateMismatch(EmbedderError):
    """Saved state is intact but was fitted under other settings (dimension, n-grams)."""


class StateCorrupt(EmbedderError):
    """Saved state is inconsistent (shapes, fingerprint): it cannot be trusted."""


@dataclass(frozen=True)
class EmbedderState:
    """Fitted state as plain values: JSON-able `params` and numeric or string `arrays`.

    The embedder knows nothing of files; the index store writes this under its manifest.
    """

    params: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to float32, L2-normalised rows of width `dim`."""

    @property
    def model_id(self) -> str:
        """Identifies the mapping; an index built under another id must be rebuilt."""
        ...

    @property
    def dim(self) -> int: ...

    @property
    def needs_fit(self) -> bool:
        """True for corpus-fitted backends (call `fit` or `load` before `encode`)."""
        ...

    @property
    def slow(self) -> bool:
        """True when passages cost ~0.1 s or more each: index them in the background."""
        ...

    def encode(self, texts: Sequence[str], kind: Kind = "passage") -> np.ndarray:
        """Embed texts.

        Args:
            texts: raw texts; empty or whitespace-only ones become zero rows.
            kind: "query" or "passage" (selects the prompt for bge/e5-style models).
        Returns:
            float32 array of shape (len(texts), dim) with unit-norm (or zero) rows.
        """
        ...

    def fit(self, corpus: Sequence[str]) -> None:
        """Learn corpus-dependent state (no-op for pretrained models)."""
        ...

    def fit_encode(self, corpus: Sequence[str]) -> np.ndarray:
        """`fit(corpus)`, then `encode(corpus, "passage")` (a backend may share the work)."""
        ...

    def state(self) -> EmbedderState | None:
        """Fitted state to persist (None for pretrained models: nothing to save)."""
        ...

    def restore(self, state: EmbedderState) -> None:
        """Adopt state from `state()`; StateMismatch / StateCorrupt when it cannot be used."""
        ...


@runtime_checkable
class Counting(Protocol):
    """A corpus-fitted embedder whose fit starts with per-passage work (LSA's n-gram counts)
    that other processes can do, and that it keeps for a refit on a near-identical corpus."""

    def count(self, passages: Sequence[str]) -> Any:
        """The per-passage part of a fit, as a picklable value."""
        ...

    def remember(self, parts: Sequence[Any]) -> None:
        """Keep `count` results (in passage order) for the next fits."""
        ...

    def release(self) -> None:
        """Drop what is kept (memory)."""
        ...


def l2_normalize(vecs: np.ndarray) -> np.ndarray:
    """Row-normalise in place-safe fashion; zero rows stay zero instead of becoming NaN."""
    vecs = np.ascontiguousarray(vecs, dtype=np.float32)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    np.divide(vecs, norms, out=vecs, where=norms > 0)
    return vecs


class BaseEmbedder:
    """Batching, empty-text handling and normalisation; backends implement `_encode_batch`."""

    needs_fit: bool = False
    slow: bool = False

    def __init__(self, *, batch_size: int) -> None:
        self.batch_size = max(1, batch_size)

    @property
    def model_id(self) -> str:
        raise NotImplementedError

    @property
    def dim(self) -> int:
        raise NotImplementedError

    def _encode_batch(self, texts: list[str], kind: Kind) -> np.ndarray:
        """Raw (unnormalised) vectors for non-empty texts, shape (len(texts), dim)."""
        raise NotImplementedError

    def encode(self, texts: Sequence[str], kind: Kind = "passage") -> np.ndarray:
        """Embed texts in batches; see `Embedder.encode`."""
        if kind not in ("query", "passage"):
            raise ValueError(f"kind must be 'query' or 'passage', got {kind!r}")
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts, not a single string")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        keep = [i for i, t in enumerate(texts) if t and t.strip()]
        for start in range(0, len(keep), self.batch_size):
            rows = keep[start : start + self.batch_size]
            vecs = np.asarray(self._encode_batch([texts[i] for i in rows], kind), np.float32)
            if vecs.shape != (len(rows), self.dim):
                raise EmbedderError(
                    f"backend returned shape {vecs.shape}, expected {(len(rows), self.dim)}"
                )
            out[rows] = vecs
        return l2_normalize(out)

    def fit(self, corpus: Sequence[str]) -> None:
        return None

    def fit_encode(self, corpus: Sequence[str]) -> np.ndarray:
        self.fit(corpus)
        return self.encode(corpus, kind="passage")

    def state(self) -> EmbedderState | None:
        return None

    def restore(self, state: EmbedderState) -> None:
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.model_id!r}, dim={self.dim})"
