"""Patient-identifier detection and masking."""
