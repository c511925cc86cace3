"""Text → vectors: the Embedder contract, LSA and sentence-transformers backends, a factory."""

from embeddings.base import BaseEmbedder, Embedder, EmbedderError, Kind
from embeddings.factory import make_embedder

__all__ = ["BaseEmbedder", "Embedder", "EmbedderError", "Kind", "make_embedder"]
