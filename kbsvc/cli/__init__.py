"""`kbsvc` command line. Each module here adds its commands via `register(app)`."""

from __future__ import annotations

import importlib
import pkgutil

import typer

app = typer.Typer(
    name="kbsvc",
    help="Knowledge base and semantic search for hospital IT departments.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

for _mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if not _mod.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_mod.name}").register(app)


def main() -> None:
    """Console-script entry point."""
    app()
