"""Factory: names → backends from settings, auto resolution, clear errors."""

from __future__ import annotations

import pytest

from embeddings.base import Embedder, UnknownBackend
from embeddings.factory import AUTO_BACKEND, EmbeddingConfig, resolve_backend
from embeddings.factory import make_embedder as _make
from embeddings.lsa import LsaEmbedder
from embeddings.sbert import SentenceTransformerEmbedder, bundled_model_dir
from indexer.text import ngram_text
from kbsvc.config import EmbeddingSettings
from kbsvc.search.engine import embedding_config


def make_embedder(cfg: EmbeddingSettings, backend: str | None = None) -> Embedder | None:
    return _make(embedding_config(cfg), preprocess=ngram_text, backend=backend)


def test_none_means_lexical_only() -> None:
    assert make_embedder(EmbeddingSettings(backend="none")) is None


def test_config_mirrors_every_embedding_setting() -> None:
    """The plain config carries each setting (and only those): one default, in Settings."""
    assert set(EmbeddingConfig.__dataclass_fields__) == set(EmbeddingSettings.model_fields)


def test_auto_resolves_to_the_measured_default() -> None:
    assert resolve_backend("auto") == AUTO_BACKEND
    embedder = make_embedder(EmbeddingSettings(backend="auto", lsa_dim=64))
    assert isinstance(embedder, Embedder) and embedder.dim == 64 and embedder.needs_fit


def test_lsa_takes_its_dim_from_settings() -> None:
    embedder = make_embedder(EmbeddingSettings(backend="lsa", lsa_dim=128))
    assert isinstance(embedder, LsaEmbedder) and embedder.dim == 128


def test_sbert_uses_model_path_and_prompts() -> None:
    cfg = EmbeddingSettings(
        backend="sbert",
        model_path=str(bundled_model_dir()),
        query_prompt="query: ",
        batch_size=8,
    )
    embedder = make_embedder(cfg)
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert embedder.prompts["query"] == "query: " and embedder.batch_size == 8


def test_backend_override_and_unknown_names() -> None:
    assert make_embedder(EmbeddingSettings(backend="lsa"), backend="none") is None
    with pytest.raises(UnknownBackend, match="choose one of: auto, e5, lsa, none, sbert"):
        make_embedder(EmbeddingSettings(), backend="word2vec")
