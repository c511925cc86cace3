"""Database engine, sessions and migrations (SQLite embedded, PostgreSQL in production)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, event, inspect
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session, SQLModel, create_engine

from kbsvc.config import Settings

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def import_all_models() -> None:
    """Import every domain's models module so SQLModel.metadata is complete."""
    import kbsvc.analytics.models  # noqa: F401
    import kbsvc.attachments.models  # noqa: F401
    import kbsvc.auth.models  # noqa: F401
    import kbsvc.entries.models  # noqa: F401
    import kbsvc.exchange.models  # noqa: F401
    import kbsvc.feedback.models  # noqa: F401
    import kbsvc.handbooks.models  # noqa: F401
    import kbsvc.hooks.models  # noqa: F401
    import kbsvc.intake.models  # noqa: F401
    import kbsvc.notify.models  # noqa: F401
    import kbsvc.search.models  # noqa: F401
    import kbsvc.tickets.models  # noqa: F401
    import kbsvc.vocab.models  # noqa: F401


def _sqlite_pragmas(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # WAL lets readers run beside the single writer; busy_timeout waits out short write locks
    # instead of failing with "database is locked"; SQLite ignores foreign keys unless asked.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=15000")
    cur.close()


# One worker runs sync routes on up to 40 threads (AnyIO's default) and the audit middleware
# may hold a second connection per write: 10 + 40 covers that, so the pool is not the limit.
# Past it, a request waits at most POOL_TIMEOUT_S and then gets a JSON 503 with Retry-After
# (api.errors), never SQLAlchemy's default 30 s stall and a plain 500.
POOL_SIZE, POOL_OVERFLOW, POOL_TIMEOUT_S = 10, 40, 5.0


def make_engine(settings: Settings) -> Engine:
    """Create the engine for the configured database URL."""
    import_all_models()
    url = settings.db_url
    pool = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW, "pool_timeout": POOL_TIMEOUT_S}
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db_engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 15}, **pool
        )
        event.listen(db_engine, "connect", _sqlite_pragmas)
        return db_engine
    return create_engine(url, pool_pre_ping=True, **pool)


def table_of(model: type[SQLModel]) -> Table:
    """The Core table behind a SQLModel table class (SQLModel leaves `__table__` untyped)."""
    found = inspect(model).local_table
    if not isinstance(found, Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return found


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE matched (SQLModel types Session.execute as a plain Result)."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"not the result of an UPDATE or DELETE: {type(result).__name__}")
    return result.rowcount


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """`session.begin_nested()` that stays inside the caller's transaction on SQLite too.

    pysqlite starts a transaction only before DML, so a SAVEPOINT issued first opens one of its
    own and its RELEASE commits: the caller could no longer roll it back. BEGIN IMMEDIATE
    first keeps it nested (and takes the write lock now, as the write inside would).
    """
    conn = session.connection()
    if conn.dialect.name == "sqlite" and not conn.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    with session.begin_nested():
        yield


@contextmanager
def session_scope(db_engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(db_engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(db_engine: Engine) -> Config:
    """Alembic config bound to this engine (migrations ship inside the package)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = db_engine
    return cfg


def upgrade(db_engine: Engine, revision: str = "head") -> None:
    """Apply pending migrations."""
    from alembic import command

    command.upgrade(alembic_config(db_engine), revision)


def current_revision(db_engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with db_engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def metadata() -> type[SQLModel]:
    """SQLModel with every table registered."""
    import_all_models()
    return SQLModel
