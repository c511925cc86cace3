"""Name → embedding backend, built from settings; heavy imports happen only when chosen."""

from __future__ import annotations

from collections.abc import Callable

from embeddings.base import Embedder, EmbedderUnavailable, UnknownBackend
from kbsvc.config import EmbeddingSettings

# What "auto" resolves to: the best configuration measured on our eval set (README, Retrieval).
AUTO_BACKEND = "lsa"


def _lsa(cfg: EmbeddingSettings) -> Embedder:
    try:
        from embeddings.lsa import LsaEmbedder
    except ImportError as exc:  # pragma: no cover - scikit-learn is a core dependency
        raise EmbedderUnavailable("install scikit-learn to enable the lsa backend") from exc
    return LsaEmbedder(dim=cfg.lsa_dim, batch_size=cfg.batch_size)


def _sbert(cfg: EmbeddingSettings) -> Embedder:
    try:
        from embeddings.sbert import SentenceTransformerEmbedder
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise EmbedderUnavailable(
            "install sentence-transformers (and torch) to enable the sbert backend"
        ) from exc
    return SentenceTransformerEmbedder(
        cfg.model_path or None,
        query_prompt=cfg.query_prompt,
        passage_prompt=cfg.passage_prompt,
        batch_size=cfg.batch_size,
    )


def _e5(cfg: EmbeddingSettings) -> Embedder:
    from embeddings.e5 import E5Embedder

    return E5Embedder(threads=cfg.e5_threads, batch_size=min(cfg.batch_size, 64))


BACKENDS: dict[str, Callable[[EmbeddingSettings], Embedder | None]] = {
    "lsa": _lsa,
    "sbert": _sbert,
    "e5": _e5,
    "none": lambda cfg: None,
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


def make_embedder(cfg: EmbeddingSettings, *, backend: str | None = None) -> Embedder | None:
    """Build the configured embedder; None means lexical-only (backend "none").

    Args:
        cfg: embedding settings (backend name, model path, prompts, batch size, LSA dim).
        backend: override cfg.backend (e.g. eval --compare trying each channel).
    Returns:
        An Embedder (corpus-fitted ones still need `fit` or `load`), or None.
    """
    return BACKENDS[resolve_backend(backend or cfg.backend)](cfg)
