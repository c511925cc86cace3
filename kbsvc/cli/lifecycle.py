"""`kbsvc entry submit|publish|reject|archive|restore-draft`, `kbsvc vocab`, `kbsvc review due`."""

from __future__ import annotations

import typer

from kbsvc.cli._common import handle_errors

entry_app = typer.Typer(help="Move entries through review.", no_args_is_help=True)
vocab_app = typer.Typer(help="Controlled vocabularies.", no_args_is_help=True)
review_app = typer.Typer(help="Review dates and flags.", no_args_is_help=True)
ACTOR = "cli"


def _transition(entry_id: int, action: str, note: str) -> None:
    from kbsvc.auth.models import SYSTEM
    from kbsvc.cli._common import open_session, settings
    from kbsvc.entries import workflow

    # The operator at the server's shell acts for the site (SYSTEM), as the other commands do.
    with open_session() as session:
        entry = workflow.transition(
            session,
            entry_id=entry_id,
            action=action,
            actor=ACTOR,
            principal=SYSTEM,
            note=note,
            settings=settings().lifecycle,
        )
    typer.echo(f"entry {entry.id}: {entry.status} (version {entry.version})")


@entry_app.command("submit")
@handle_errors
def submit(entry_id: int, note: str = typer.Option("", help="Note for the reviewer.")) -> None:
    """Draft → in_review."""
    _transition(entry_id, "submit", note)


@entry_app.command("publish")
@handle_errors
def publish(entry_id: int, note: str = typer.Option("", help="Version note.")) -> None:
    """In_review → published."""
    _transition(entry_id, "publish", note)


@entry_app.command("reject")
@handle_errors
def reject(
    entry_id: int, comment: str = typer.Option(..., help="What the editor must fix.")
) -> None:
    """In_review → draft, with a comment."""
    _transition(entry_id, "reject", comment)


@entry_app.command("archive")
@handle_errors
def archive(entry_id: int, note: str = typer.Option("", help="Version note.")) -> None:
    """Published → archived."""
    _transition(entry_id, "archive", note)


@entry_app.command("restore-draft")
@handle_errors
def restore_draft(entry_id: int, note: str = typer.Option("", help="Version note.")) -> None:
    """Archived → draft."""
    _transition(entry_id, "restore_draft", note)


@vocab_app.command("seed")
@handle_errors
def vocab_seed() -> None:
    """Add the default hospital vocabulary (values already present are kept)."""
    from kbsvc.cli._common import open_session
    from kbsvc.vocab import service

    with open_session() as session:
        added = service.seed_defaults(session)
    typer.echo(f"added {added} vocabulary terms")


@vocab_app.command("list")
@handle_errors
def vocab_list(
    kind: str = typer.Option("", help="system | module | department | category"),
) -> None:
    """Print the vocabulary, one term per line: kind, value, aliases."""
    from kbsvc.cli._common import fail, open_session
    from kbsvc.vocab import service
    from kbsvc.vocab.models import VocabKind

    if kind and kind not in {k.value for k in VocabKind}:
        raise fail(f"unknown kind {kind!r}: use system, module, department or category")
    with open_session() as session:
        terms = service.list_terms(session, kind=VocabKind(kind) if kind else None)
    for term in terms.data:
        typer.echo(f"{term.kind}\t{term.value}\t{'、'.join(term.aliases)}")


@vocab_app.command("unmapped")
@handle_errors
def vocab_unmapped() -> None:
    """Values in entries and tickets the vocabulary does not know: kind, value, uses, suggestion."""
    from kbsvc.cli._common import open_session
    from kbsvc.vocab import mapping

    with open_session() as session:
        rows = mapping.unmapped(session)
    for row in rows:
        hint = f"\t→ {row.suggestion}?" if row.suggestion else ""
        typer.echo(f"{row.kind}\t{row.value}\t{row.entries} entries, {row.tickets} tickets{hint}")
    typer.echo(f"{len(rows)} unmapped values", err=True)


@vocab_app.command("map")
@handle_errors
def vocab_map(
    kind: str = typer.Argument(..., help="system | module | department | category"),
    value: str = typer.Argument(..., help="The value as stored (e.g. HIS系统)."),
    target: str = typer.Argument(..., help="The canonical value (added if new)."),
) -> None:
    """Map a value onto a canonical one: kept as an alias, existing rows fixed."""
    from kbsvc.cli._common import open_session
    from kbsvc.vocab import mapping

    with open_session() as session:
        fixed = mapping.apply_mapping(session, kind=kind, value=value, target=target)
    typer.echo(f"{value} → {target}: {fixed['entries']} entries, {fixed['tickets']} tickets fixed")


@review_app.command("due")
@handle_errors
def review_due(
    days: int = typer.Option(0, help="Also list entries due within this many days."),
) -> None:
    """Published entries due for review."""
    from datetime import timedelta

    from kbsvc.auth.models import SYSTEM
    from kbsvc.cli._common import open_session
    from kbsvc.entries import service, workflow
    from kbsvc.timeutil import utcnow

    with open_session() as session:
        page = workflow.due(
            session, before=utcnow() + timedelta(days=days), limit=200, principal=SYSTEM
        )
        for item in page.data:
            entry = service.get(session, entry_id=item.id, principal=SYSTEM)
            due = entry.review_due_at.date().isoformat() if entry.review_due_at else "-"
            typer.echo(f"{item.id}\t{due}\t{item.system}\t{item.title}")
    typer.echo(f"{page.count} entries due", err=True)


def register(app: typer.Typer) -> None:
    app.add_typer(entry_app, name="entry")
    app.add_typer(vocab_app, name="vocab")
    app.add_typer(review_app, name="review")
