"""Build the search engine from Settings: the one place settings become indexer config."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from embeddings.factory import EmbeddingConfig
from indexer.analyzer import Analyzer
from indexer.channels import EngineConfig
from indexer.engine import SearchEngine
from indexer.retriever import RetrieverConfig
from kbsvc import __version__
from kbsvc.config import EmbeddingSettings, SearchSettings, Settings
from kbsvc.search import choice
from kbsvc.search.election import writer_lock
from kbsvc.search.source import DbChangeSource


def retriever_config(search: SearchSettings) -> RetrieverConfig:
    """How channels are weighed and fused, from the search settings."""
    return RetrieverConfig(
        lexical_weight=search.lexical_weight,
        dense_weight=search.dense_weight,
        method=search.fusion,
        learn_from_use=search.learn_from_use,
    )


def embedding_config(embedding: EmbeddingSettings) -> EmbeddingConfig:
    """Which embedder feeds the dense channel, from the embedding settings."""
    return EmbeddingConfig(
        backend=embedding.backend,
        model_path=embedding.model_path,
        query_prompt=embedding.query_prompt,
        passage_prompt=embedding.passage_prompt,
        batch_size=embedding.batch_size,
        lsa_dim=embedding.lsa_dim,
        e5_threads=embedding.e5_threads,
    )


def rank_fused(settings: Settings) -> Settings:
    """Several dense channels, or e5 (whose cosines sit at 0.86–0.95 for any entry), are fused
    by rank with equal weights unless the search settings say otherwise."""
    backend = settings.embedding.backend
    if "+" not in backend and backend != "e5":
        return settings
    explicit = settings.search.model_fields_set
    update = {k: v for k, v in (("fusion", "rrf"), ("dense_weight", 1.0)) if k not in explicit}
    return settings.model_copy(update={"search": settings.search.model_copy(update=update)})


def engine_config(settings: Settings, index_dir: Path | None = None) -> EngineConfig:
    """The search engine's whole configuration (index folder defaults to the data dir's)."""
    settings = choice.apply(settings)  # `auto` follows this KB's evidence when it has chosen
    settings = rank_fused(settings)
    return EngineConfig(
        index_dir=index_dir or settings.index_dir,
        retriever=retriever_config(settings.search),
        embedding=embedding_config(settings.embedding),
        ann_threshold=settings.search.ann_threshold,
        version=__version__,
    )


def build_search_engine(
    settings: Settings,
    db_engine: Engine,
    *,
    index_dir: Path | None = None,
    analyzer: Analyzer | None = None,
    shared: bool = False,
) -> SearchEngine:
    """A SearchEngine following `db_engine`'s entry change sequence (not started yet).

    `shared`: one of several serving processes; they elect one index writer (the rest map
    its generations), instead of this process owning the index alone."""
    config = engine_config(settings, index_dir)
    lock = writer_lock(settings, db_engine, config.index_dir) if shared else None
    return SearchEngine(config, DbChangeSource(db_engine), analyzer=analyzer, lock=lock)
