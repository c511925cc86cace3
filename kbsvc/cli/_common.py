"""Shared CLI plumbing: settings, the database and search engines, error translation, output."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from indexer.engine import SearchEngine
    from kbsvc.config import Settings

P = ParamSpec("P")
R = TypeVar("R")
console = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print an error line (no traceback) and return the Exit to raise."""
    # soft_wrap: one error stays one line when stderr is a pipe (rich wraps at 80 columns).
    console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def run_worker(step: Callable[[], int], poll_s: float, *, once: bool, done: str) -> None:
    """Run a background worker's pass in the foreground: once (printing `done` with the count
    handled), or until interrupted, sleeping `poll_s` after a pass that found nothing."""
    import time

    while True:
        handled = step()
        if once:
            typer.echo(done.format(handled))
            return
        if not handled:
            time.sleep(poll_s)


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn expected errors (bad settings, domain errors, missing files) into one line."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from pydantic import ValidationError

        from kbsvc.exceptions import KbError

        try:
            return fn(*args, **kwargs)
        except KbError as exc:
            raise fail(exc.message) from None
        except ValidationError as exc:
            raise fail(f"invalid settings: {settings_problems(exc)}") from None
        except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
            raise fail(f"{exc.strerror}: {exc.filename}") from None
        except Exception as exc:
            from kbsvc import storage

            if storage.is_disk_full(exc):  # SQLite, PostgreSQL or a file: one line, exit 1
                raise fail(storage.MESSAGE, code=1) from None
            raise

    return wrapper


def settings_problems(exc: Any) -> str:
    """A settings ValidationError as one line naming the environment variables."""
    parts = []
    for err in exc.errors():
        name = "KBSVC_" + "__".join(str(p) for p in err.get("loc", ())).upper()
        parts.append(f"{name}: {err.get('msg', 'invalid value')} (got {err.get('input')!r})")
    return "; ".join(parts)


def open_db_engine() -> Engine:
    """The SQLAlchemy engine for the configured database, migrated to head."""
    from kbsvc import db
    from kbsvc.config import Settings

    built = db.make_engine(Settings())
    db.upgrade(built)
    return built


def search_engine(over: Engine | None = None, *, start: bool = True) -> SearchEngine:
    """The search engine over `over` (default: the configured database); started: index
    loaded and caught up."""
    from kbsvc.search.engine import build_search_engine

    built = build_search_engine(settings(), over or open_db_engine())
    if start:
        built.start()
    return built


def settings() -> Settings:
    from kbsvc.config import Settings

    return Settings()


def is_tty() -> bool:
    return sys.stderr.isatty()


@contextmanager
def open_session() -> Iterator[Session]:
    """The command's unit of work: commits when the block ends cleanly, else rolls back.

    Services only flush; this is the one place a CLI command's changes are committed.
    """
    from kbsvc import db

    with db.session_scope(open_db_engine()) as session:
        yield session
