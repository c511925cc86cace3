"""Name → embedding backend, built from a plain config; heavy imports happen only when chosen."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from embeddings.base import Embedder, UnknownBackend

# What "auto" resolves to: the best configuration measured on our eval set (README, Retrieval).
AUTO_BACKEND = "lsa"
Preprocess = Callable[[str], str]


@dataclass(frozen=True)
class EmbeddingConfig:
    """What the factory reads; the application fills every field from its own settings."""

    backend: str
    model_path: str
    query_prompt: str
    passage_prompt: str
    batch_size: int
    lsa_dim: int
    e5_threads: int


def _lsa(cfg: EmbeddingConfig, preprocess: Preprocess) -> Embedder:
    # Imported here: scikit-learn takes about a second to import.
    from embeddings.lsa import LsaEmbedder

    return LsaEmbedder(cfg.lsa_dim, preprocess=preprocess, batch_size=cfg.batch_size)


def _sbert(cfg: EmbeddingConfig, preprocess: Preprocess) -> Embedder:
    # Imported here: torch and sentence-transformers take seconds to import.
    from embeddings.sbert import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(
        cfg.model_path or None,
        query_prompt=cfg.query_prompt,
        passage_prompt=cfg.passage_prompt,
        batch_size=cfg.batch_size,
    )


def _e5(cfg: EmbeddingConfig, preprocess: Preprocess) -> Embedder:
    # Imported here: the model loads its OpenMP runtime on import.
    from embeddings.e5 import E5Embedder

    return E5Embedder(threads=cfg.e5_threads, batch_size=min(cfg.batch_size, 64))


def _none(cfg: EmbeddingConfig, preprocess: Preprocess) -> Embedder | None:
    return None


BACKENDS: dict[str, Callable[[EmbeddingConfig, Preprocess], Embedder | None]] = {
    "lsa": _lsa,
    "sbert": _sbert,
    "e5": _e5,
    "none": _none,
}


def resolve_backend(name: str) -> str:
    """Concrete backend name for a configured one ("auto" → the measured best)."""
    name = (name or "").strip().lower()
    if name == "auto":
        return AUTO_BACKEND
    if name not in BACKENDS:
        known = ", ".join(sorted([*BACKENDS, "auto"]))
        raise UnknownBackend(f"unknown embedding backend {name!r}; choose one of: {known}")
    return name


# A combination ("lsa+e5") is written in this order: the slowest model is the primary channel
# (the one that may embed in the background), fast corpus-fitted ones ride beside it.
ORDER = ("e5", "sbert", "lsa")


def resolve_backends(spec: str) -> list[str]:
    """Concrete backends of a configured spec: "auto", one name, or several joined by "+"."""
    names = [resolve_backend(part) for part in (spec or "none").split("+")]
    if "none" in names:
        return [] if len(names) == 1 else [n for n in names if n != "none"]
    return sorted(set(names), key=ORDER.index)


def make_embedder(
    cfg: EmbeddingConfig, *, preprocess: Preprocess, backend: str | None = None
) -> Embedder | None:
    """Build the configured embedder; None means lexical-only (backend "none").

    Args:
        cfg: backend name, model path, prompts, batch size, LSA dim, e5 threads.
        preprocess: text → the form corpus-fitted backends n-gram (supplied by the indexer).
        backend: override cfg.backend (e.g. eval --compare trying each channel).
    Returns:
        An Embedder (corpus-fitted ones still need `fit` or `restore`), or None.
    """
    return BACKENDS[resolve_backend(backend or cfg.backend)](cfg, preprocess)
