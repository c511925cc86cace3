"""Settings become the search engine's plain config in one place, with one default each."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path

from sqlalchemy.engine import Engine

from embeddings.factory import EmbeddingConfig
from embeddings.lsa import LsaEmbedder
from indexer.channels import EngineConfig
from indexer.retriever import RetrieverConfig
from indexer.vector import VectorIndex
from kbsvc import __version__
from kbsvc.config import EmbeddingSettings, SearchSettings, Settings
from kbsvc.search.engine import build_search_engine
from kbsvc.search.source import DbChangeSource


def test_builder_carries_every_setting(tmp_path: Path, engine: Engine) -> None:
    settings = Settings(
        data_dir=tmp_path,
        search=SearchSettings(
            lexical_weight=0.7,
            dense_weight=0.0,
            fusion="rrf",
            learn_from_use=False,
            ann_threshold=4000,
        ),
        embedding=EmbeddingSettings(backend="none", lsa_dim=64, batch_size=8, e5_threads=2),
        _env_file=None,  # type: ignore[call-arg]
    )
    search_engine = build_search_engine(settings, engine)
    cfg = search_engine.config
    assert cfg.retriever == RetrieverConfig(
        lexical_weight=0.7, dense_weight=0.0, method="rrf", learn_from_use=False
    )
    assert cfg.ann_threshold == 4000 and cfg.index_dir == settings.index_dir
    assert cfg.version == __version__
    assert dataclasses.asdict(cfg.embedding) == settings.embedding.model_dump()
    assert isinstance(search_engine.source, DbChangeSource)
    assert search_engine.backend == "none"


def test_settings_backed_values_have_no_second_default() -> None:
    def required(cls: type) -> set[str]:
        return {
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }

    assert required(RetrieverConfig) >= {"lexical_weight", "dense_weight", "method"}
    assert required(EmbeddingConfig) == set(EmbeddingSettings.model_fields)
    assert required(EngineConfig) == {f.name for f in dataclasses.fields(EngineConfig)}
    for fn, names in (
        (VectorIndex.__init__, ("ann_threshold",)),
        (LsaEmbedder.__init__, ("dim", "batch_size", "preprocess")),
    ):
        params = inspect.signature(fn).parameters
        assert all(params[n].default is inspect.Parameter.empty for n in names)
