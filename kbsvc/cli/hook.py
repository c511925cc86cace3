"""`kbsvc hook add | list | mapping | rotate | dead-letters | replay`: signed inbound webhooks."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from kbsvc.cli._common import handle_errors
from kbsvc.hooks import HookCapture

if TYPE_CHECKING:
    from sqlmodel import Session

hook_app = typer.Typer(help="Webhooks helpdesks sign and post tickets to.", no_args_is_help=True)


def _read_mapping(path: Path | None) -> str:
    from kbsvc.intake.mapping import parse_mapping_toml

    if path is None:
        return ""
    text = path.read_text(encoding="utf-8-sig")
    parse_mapping_toml(text, origin=str(path))
    return text


def _audit(session: Session, action: str, name: str, summary: str = "") -> None:
    import getpass

    from kbsvc.auth import audit

    audit.record(
        session,
        actor=f"cli:{getpass.getuser()}",
        action=f"CLI hook {action}",
        object_type="hooks",
        object_ids=[name],
        summary=summary,
    )


@hook_app.command("add")
@handle_errors
def hook_add(
    name: str = typer.Argument(..., help="Lower-case name; the URL is /api/v1/hooks/NAME."),
    mapping: Path = typer.Option(None, "--mapping", help="Mapping file (TOML), as for import."),
    capture: HookCapture = typer.Option(
        HookCapture.none, help="draft: a resolved ticket with a solution becomes a draft entry."
    ),
    source: str = typer.Option("", help="Ticket source name [default: the hook's name]."),
) -> None:
    """Register a helpdesk; the signing secret is printed alone on the last line, once."""
    from kbsvc.cli._common import open_session, settings
    from kbsvc.hooks import service

    with open_session() as session:
        hook = service.create(
            session, name=name, capture=capture, source=source, mapping_toml=_read_mapping(mapping)
        )
        _audit(session, "add", name, f"capture={hook.capture}")
    url = settings().public_base_url.rstrip("/") + f"/api/v1/hooks/{hook.name}"
    typer.echo(f"created webhook {hook.name!r} (source {hook.source}, capture {hook.capture})")
    typer.echo(f"POST {url}; sign with this secret (store it now):")
    typer.echo(hook.secret)


@hook_app.command("list")
@handle_errors
def hook_list() -> None:
    """Webhooks: name, source, capture, open dead letters."""
    from kbsvc.cli._common import open_session
    from kbsvc.hooks import service

    with open_session() as session:
        hooks = service.list_hooks(session).data
    for h in hooks:
        mapped = "mapped" if h.mapping_toml.strip() else "headers"
        typer.echo(
            f"{h.name}\t{h.source}\tcapture {h.capture}\t{mapped}\t"
            f"{h.open_dead_letters} dead letters"
        )
    if not hooks:
        typer.echo("no webhooks")


@hook_app.command("mapping")
@handle_errors
def hook_mapping(
    name: str,
    mapping: Path = typer.Argument(..., help="Mapping file (TOML); replaces the current one."),
) -> None:
    """Replace a webhook's mapping; then `kbsvc hook replay NAME` its dead letters."""
    from kbsvc.cli._common import open_session
    from kbsvc.hooks import service

    with open_session() as session:
        service.set_mapping(session, name=name, mapping_toml=_read_mapping(mapping))
        _audit(session, "mapping", name, mapping.name)
    typer.echo(f"mapping of {name!r} replaced")


@hook_app.command("rotate")
@handle_errors
def hook_rotate(name: str) -> None:
    """Replace a webhook's secret; the new one is printed alone on the last line, once."""
    from kbsvc.cli._common import open_session
    from kbsvc.hooks import service

    with open_session() as session:
        hook = service.rotate_secret(session, name=name)
        _audit(session, "rotate", name)
    typer.echo(f"new secret for {name!r}; the old one no longer verifies:")
    typer.echo(hook.secret)


@hook_app.command("dead-letters")
@handle_errors
def hook_dead_letters(
    name: str, all_letters: bool = typer.Option(False, "--all", help="Include replayed ones.")
) -> None:
    """Events that could not be applied: id, event id, attempts, reason."""
    from kbsvc.cli._common import open_session
    from kbsvc.hooks import delivery
    from kbsvc.hooks.models import DeadLetterStatus

    status = None if all_letters else DeadLetterStatus.open
    with open_session() as session:
        letters = delivery.dead_letters(session, name=name, status=status).data
    for d in letters:
        when = d.received_at.strftime("%Y-%m-%d %H:%M")
        typer.echo(f"{d.id}\t{d.event_id or '-'}\t{d.status}\t{when}\t×{d.attempts}\t{d.reason}")
    if not letters:
        typer.echo("no dead letters")


@hook_app.command("replay")
@handle_errors
def hook_replay(
    name: str,
    letter: list[int] = typer.Argument(None, help="Dead-letter ids [default: every open one]."),
) -> None:
    """Apply dead letters again with the hook's current mapping."""
    from kbsvc.cli._common import open_session, settings
    from kbsvc.hooks import delivery

    privacy = settings().privacy
    with open_session() as session:
        if letter:
            outcomes = [
                delivery.replay(session, name=name, letter_id=i, privacy=privacy) for i in letter
            ]
        else:
            outcomes = delivery.replay_all(session, name=name, privacy=privacy).events
        _audit(session, "replay", name, f"{len(outcomes)} dead letters")
    for o in outcomes:
        detail = o.reason if o.outcome == "dead_letter" else f"ticket {o.ticket_id}"
        typer.echo(f"{o.dead_letter_id}\t{o.event_id or '-'}\t{o.outcome}\t{detail}")
    failed = sum(1 for o in outcomes if o.outcome == "dead_letter")
    typer.echo(f"replayed {len(outcomes) - failed}, still failing {failed}")
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(hook_app, name="hook")
