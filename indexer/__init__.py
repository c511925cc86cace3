"""Everything between text and ranked ids: normalisation, tokens, indexes, fusion, sync."""
