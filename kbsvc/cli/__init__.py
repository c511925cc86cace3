"""`kbsvc` command line: every command group is listed below, where it is mounted."""

from __future__ import annotations

import typer

from kbsvc.cli import (
    attachments,
    auth,
    backup,
    demo,
    handbook,
    hook,
    importer,
    kb,
    lifecycle,
    notify,
    report,
    search,
    serve,
    widget,
)

app = typer.Typer(
    name="kbsvc",
    help="Knowledge base and semantic search for hospital IT departments.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Each module keeps its heavy imports inside the commands, so `kbsvc --help` stays instant.
GROUPS = (
    attachments,
    auth,
    backup,
    demo,
    handbook,
    hook,
    importer,
    kb,
    lifecycle,
    notify,
    report,
    search,
    serve,
    widget,
)
for _group in GROUPS:
    _group.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
