"""Search and suggest over the knowledge base (ranking lives in indexer/)."""
