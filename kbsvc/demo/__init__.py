"""Demo data set: ~350 resolved hospital IT tickets (Simplified Chinese) and a loader."""

from importlib import resources

DEMO_SOURCE = "demo"
DATA_FILES = ("tickets_a.jsonl", "tickets_b.jsonl")


def data_files() -> list[resources.abc.Traversable]:
    """The shipped demo ticket files, in load order."""
    base = resources.files(__name__) / "data"
    return [base / name for name in DATA_FILES]
