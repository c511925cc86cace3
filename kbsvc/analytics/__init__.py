"""Insight: search log, demand / reuse / gap / health reports, charts and exports."""
