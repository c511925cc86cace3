"""kbsvc: knowledge base and semantic search for hospital IT departments."""

__version__ = "0.1.0"
