"""The lexical-only backend: no dense channel (dim 0)."""

from __future__ import annotations

import numpy as np

from embeddings.base import BaseEmbedder, Kind


class NoneEmbedder(BaseEmbedder):
    """A null object for callers that prefer one to `None`; every vector is empty."""

    @property
    def model_id(self) -> str:
        return "none"

    @property
    def dim(self) -> int:
        return 0

    def _encode_batch(self, texts: list[str], kind: Kind) -> np.ndarray:
        return np.zeros((len(texts), 0), dtype=np.float32)
