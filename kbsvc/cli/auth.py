"""`kbsvc user add | unlock` and `kbsvc apikey create | list | revoke` (each change is audited)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from kbsvc.cli._common import handle_errors

if TYPE_CHECKING:
    from sqlmodel import Session

user_app = typer.Typer(help="People who log in to the web UI.", no_args_is_help=True)
key_app = typer.Typer(help="API keys for integrations and the widget.", no_args_is_help=True)


@user_app.command("add")
@handle_errors
def user_add(
    name: str,
    role: str = typer.Option("editor", help="viewer | editor | reviewer | admin"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
    department: list[str] = typer.Option([], help="Department(s) the person belongs to."),
    email: str = typer.Option("", help="Mailbox for review notices (mail channels)."),
) -> None:
    """Create a user."""
    from kbsvc.auth import service
    from kbsvc.auth.models import Role
    from kbsvc.cli._common import fail, open_session

    if role not in {r.value for r in Role} or role == "widget":
        raise fail(f"unknown role {role!r}: use viewer, editor, reviewer or admin")
    with open_session() as session:
        user = service.create_user(
            session,
            username=name,
            role=Role(role),
            password=password,
            departments=department,
            email=email,
        )
        _audit(session, "user add", "users", str(user.id), f"role={user.role}")
    typer.echo(f"created user {user.username} ({user.role})")


@user_app.command("unlock")
@handle_errors
def user_unlock(name: str) -> None:
    """Lift a login lock (too many wrong passwords) on an account, from every address."""
    import getpass

    from kbsvc.auth import audit, lockout
    from kbsvc.cli._common import open_session

    with open_session() as session:
        # The lock is read back from the audit log; this event is where counting restarts.
        audit.record(
            session,
            actor=lockout.actor(name),
            action=lockout.UNLOCK_ACTION,
            object_type="users",
            summary=f"by cli:{getpass.getuser()}",
        )
    typer.echo(f"unlocked {name}")


@key_app.command("create")
@handle_errors
def apikey_create(
    name: str = typer.Option(..., help="What the key is for."),
    role: str = typer.Option("viewer", help="viewer | editor | reviewer | admin | widget"),
    origin: list[str] = typer.Option([], help="Allowed page origin (widget keys)."),
    department: list[str] = typer.Option(
        [], help="Department(s) whose restricted entries the key may see."
    ),
    rate_per_minute: int = typer.Option(
        None,
        "--rate-per-minute",
        min=1,
        help="Requests a minute on suggest/search/widget [default: the role's, see README].",
    ),
) -> None:
    """Create an API key; the key is printed alone on the last line, once."""
    from kbsvc.auth import service
    from kbsvc.auth.models import Role
    from kbsvc.cli._common import fail, open_session

    if role not in {r.value for r in Role}:
        raise fail(f"unknown role {role!r}: use viewer, editor, reviewer, admin or widget")
    with open_session() as session:
        row, plaintext = service.create_api_key(
            session,
            name=name,
            role=Role(role),
            origins=origin,
            departments=department,
            rate_per_minute=rate_per_minute,
        )
        _audit(session, "apikey create", "api_keys", str(row.id), f"role={row.role}")
    typer.echo(f"created {row.role} key {row.name!r} (prefix {row.prefix}); store it now:")
    typer.echo(plaintext)


@key_app.command("list")
@handle_errors
def apikey_list(
    all_keys: bool = typer.Option(False, "--all", help="Include revoked keys."),
) -> None:
    """List keys: id, prefix, name, role, origins, last use (never the key itself)."""
    from kbsvc.auth import service
    from kbsvc.cli._common import open_session

    with open_session() as session:
        rows = service.list_api_keys(session, include_revoked=all_keys)
    for r in rows:
        used = r.last_used_at.strftime("%Y-%m-%d %H:%M") if r.last_used_at else "never"
        state = " REVOKED" if r.revoked else ""
        origins = ",".join(r.origins) or "-"
        rate = f"{r.rate_per_minute}/min" if r.rate_per_minute else "role rate"
        typer.echo(
            f"{r.id}\t{r.prefix}…\t{r.name}\t{r.role}\t{origins}\t{rate}\tlast used {used}{state}"
        )
    if not rows:
        typer.echo("no keys")


@key_app.command("revoke")
@handle_errors
def apikey_revoke(ident: str = typer.Argument(..., help="Key id, prefix or name.")) -> None:
    """Revoke a key; callers using it get 401 from then on."""
    from kbsvc.auth import service
    from kbsvc.cli._common import open_session

    with open_session() as session:
        row = service.revoke_api_key(session, ident=ident)
        _audit(session, "apikey revoke", "api_keys", str(row.id), "")
    typer.echo(f"revoked key {row.id} {row.name!r} (prefix {row.prefix})")


def _audit(session: Session, action: str, object_type: str, object_id: str, summary: str) -> None:
    import getpass

    from kbsvc.auth import audit

    audit.record(
        session,
        actor=f"cli:{getpass.getuser()}",
        action=f"CLI {action}",
        object_type=object_type,
        object_ids=[object_id],
        summary=summary,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    app.add_typer(key_app, name="apikey")
