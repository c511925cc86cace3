"""Benchmarks: quality on the eval set, latency and build time at 100k entries."""
