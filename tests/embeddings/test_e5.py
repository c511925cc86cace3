"""The bundled e5 backend: pinned model, offline load, prompts, Chinese retrieval quality."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from embeddings.e5 import MODEL_SHA256, E5Embedder, model_path
from embeddings.factory import make_embedder
from indexer.text import ngram_text
from kbsvc.config import EmbeddingSettings
from kbsvc.search.engine import embedding_config


def test_model_is_the_pinned_file_inside_the_package(e5: E5Embedder) -> None:
    assert model_path().name == "e5-small-q4.bin"
    assert MODEL_SHA256[:12] in e5.model_id and e5.dim == 384 and not e5.needs_fit


def test_factory_builds_it_and_shares_one_loaded_model(e5: E5Embedder) -> None:
    other = make_embedder(embedding_config(EmbeddingSettings(backend="e5")), preprocess=ngram_text)
    assert isinstance(other, E5Embedder)
    assert other.model_id == e5.model_id
    assert other._model is e5._model  # noqa: SLF001 - one ~60 MB model per process


def test_query_and_passage_prompts_differ(e5: E5Embedder) -> None:
    q = e5.encode(["医保结算失败"], "query")[0]
    p = e5.encode(["医保结算失败"], "passage")[0]
    assert 0.8 < float(q @ p) < 0.9999


def test_chinese_paraphrase_finds_its_topic(e5: E5Embedder, corpus: list[str]) -> None:
    docs = e5.encode(corpus, "passage")
    # Each topic is ten consecutive sentences; a colloquial query must land in its topic.
    for query, topic in [
        ("刷医保卡结不了账", 2),
        ("片子调不出来", 3),
        ("打单子的机器不出纸", 0),
        ("整个病区上不了网", 4),
    ]:
        best = int(np.argmax(docs @ e5.encode([query], "query")[0]))
        assert best // 10 == topic, (query, corpus[best])


def test_loads_and_embeds_with_the_network_blocked() -> None:
    code = (
        "import socket\n"
        "def refuse(*a, **k):\n"
        "    raise OSError('network disabled in this test')\n"
        "socket.socket.connect = refuse\n"
        "socket.socket.connect_ex = refuse\n"
        "socket.create_connection = refuse\n"
        "socket.getaddrinfo = refuse\n"
        "from embeddings.e5 import E5Embedder\n"
        "v = E5Embedder().encode(['电子病历签名失败'], 'query')\n"
        "assert v.shape == (1, 384)\n"
    )
    env = {"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": "."}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode()[-2000:]
