"""One contract, every backend: shapes, dtype, normalisation, batching, empty text."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.base import BaseEmbedder, Embedder

TEXTS = ["HIS登不上", "", "   ", "打印机不出纸", "医保结算超时，患者无法结账", "PACS影像打不开"]


@pytest.fixture(params=["lsa", "minilm", "e5"])
def embedder(request: pytest.FixtureRequest) -> BaseEmbedder:
    return request.getfixturevalue(request.param)


def test_satisfies_protocol(embedder: BaseEmbedder) -> None:
    assert isinstance(embedder, Embedder)
    assert embedder.dim > 0
    assert embedder.model_id


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_encode_shape_dtype_and_unit_rows(embedder: BaseEmbedder, kind: str) -> None:
    vecs = embedder.encode(TEXTS, kind)  # type: ignore[arg-type]
    assert vecs.shape == (len(TEXTS), embedder.dim)
    assert vecs.dtype == np.float32
    norms = np.linalg.norm(vecs, axis=1)
    # Empty and whitespace-only texts give zero rows; the rest are unit length.
    np.testing.assert_allclose(norms[[1, 2]], 0.0)
    np.testing.assert_allclose(norms[[0, 3, 4, 5]], 1.0, atol=1e-5)


def test_batching_does_not_change_vectors(embedder: BaseEmbedder) -> None:
    together = embedder.encode(TEXTS)
    alone = np.vstack([embedder.encode([t]) for t in TEXTS])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_empty_input_and_bad_arguments(embedder: BaseEmbedder) -> None:
    assert embedder.encode([]).shape == (0, embedder.dim)
    with pytest.raises(TypeError):
        embedder.encode("一段文本")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        embedder.encode(["x"], "document")  # type: ignore[arg-type]


def test_state_restore_keeps_model_id(embedder: BaseEmbedder) -> None:
    before = embedder.model_id
    state = embedder.state()
    assert (state is None) == (not embedder.needs_fit)  # pretrained models have none
    if state is not None:
        embedder.restore(state)
    assert embedder.model_id == before
    assert embedder.encode(["打印机"]).shape == (1, embedder.dim)
