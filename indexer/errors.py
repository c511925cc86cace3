"""Errors raised when a saved index cannot be trusted (the caller rebuilds it from the DB)."""

from __future__ import annotations


class IndexStoreError(Exception):
    """Base: a saved index folder is unusable; rebuild it from the database."""


class IndexCorrupt(IndexStoreError):
    """Files are unreadable, truncated, or fail their checksum."""


class IndexMissing(IndexCorrupt):
    """No saved index (first start, or the folder was deleted)."""


class IndexMismatch(IndexStoreError):
    """Files are intact but were built for another model, dimension or format."""
