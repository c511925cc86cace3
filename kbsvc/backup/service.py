"""`backup` writes a folder that is complete or absent; `restore` fills an empty site from one."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from indexer.manifest import sha256_file, write_atomic
from kbsvc import __version__, db
from kbsvc.backup import postgres, sqlite
from kbsvc.backup.models import (
    MANIFEST,
    PG_FILE,
    SECRET_FILE,
    SETTINGS_FILE,
    SQLITE_FILE,
    BackupFile,
    BackupReport,
    Manifest,
)
from kbsvc.config import Settings
from kbsvc.exceptions import Conflict, ValidationFailed
from kbsvc.exchange.service import SITE_FILE
from kbsvc.timeutil import utcnow

# Settings keys whose values never go into a backup's settings.json.
_SECRET_PARTS = ("secret", "password", "token", "webhook", "database_url")


def _backend(settings: Settings) -> str:
    return "sqlite" if settings.db_url.startswith("sqlite") else "postgresql"


def _redact(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _redact(v, k) for k, v in value.items()}
    if value and any(part in key.lower() for part in _SECRET_PARTS):
        return "***"
    return value


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _drop_stale_partials(dest: Path) -> None:
    # A backup killed midway leaves `.NAME.partial-PID`; tidy those whose process is gone.
    for stale in dest.parent.glob(f".{dest.name}.partial-*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)


def backup(settings: Settings, db_engine: Engine, dest: Path) -> BackupReport:
    """Snapshot the database, settings and secret into `dest`, atomically."""
    started = time.monotonic()
    dest = dest.expanduser().resolve()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise Conflict(f"{dest} already exists and is not empty; choose a new backup folder")
    dest.parent.mkdir(parents=True, exist_ok=True)
    _drop_stale_partials(dest)
    work = dest.parent / f".{dest.name}.partial-{os.getpid()}"
    # 0700: the dump holds password hashes and the session secret.
    work.mkdir(mode=0o700)
    try:
        backend = _backend(settings)
        if backend == "sqlite":
            dump = work / SQLITE_FILE
            tables = sqlite.snapshot(sqlite.database_path(settings.db_url), dump)
        else:
            dump = work / PG_FILE
            tables = postgres.snapshot(db_engine, settings.db_url, dump, settings.backup.pg_bin_dir)
        cfg = _redact(settings.model_dump(mode="json"))
        (work / SETTINGS_FILE).write_text(
            json.dumps(cfg, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8"
        )
        # The cookie secret (sessions survive) and the exchange site id (provenance stays).
        for name in (SECRET_FILE, SITE_FILE):
            if (settings.data_dir / name).is_file():
                shutil.copyfile(settings.data_dir / name, work / name)
                os.chmod(work / name, 0o600)
        files = []
        for path in sorted(p for p in work.iterdir() if p.is_file()):
            _fsync_file(path)
            files.append(
                BackupFile(name=path.name, size=path.stat().st_size, sha256=sha256_file(path))
            )
        manifest = Manifest(
            created_at=utcnow(),
            kbsvc_version=__version__,
            backend=backend,
            db_revision=db.current_revision(db_engine),
            files=files,
            tables=tables,
            seconds=round(time.monotonic() - started, 3),
        )
        # The manifest goes in last and the rename publishes the folder: a backup killed at
        # any earlier point leaves only a hidden `.partial-PID` folder without a manifest.
        write_atomic(work / MANIFEST, manifest.model_dump_json(indent=2).encode("utf-8"))
        _fsync_dir(work)
        os.rename(work, dest)
        _fsync_dir(dest.parent)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return BackupReport(
        path=str(dest),
        backend=backend,
        bytes=sum(f.size for f in files),
        seconds=round(time.monotonic() - started, 3),
        tables=tables,
    )


def verify(source: Path) -> Manifest:
    """The manifest of a complete, unaltered backup folder; ValidationFailed otherwise."""
    source = source.expanduser().resolve()
    path = source / MANIFEST
    if not path.is_file():
        raise ValidationFailed(f"{source} is not a complete kbsvc backup (no {MANIFEST})")
    try:
        manifest = Manifest.model_validate_json(path.read_bytes())
    except ValueError as exc:
        raise ValidationFailed(f"{path} is not a kbsvc backup manifest: {exc}") from None
    dump = SQLITE_FILE if manifest.backend == "sqlite" else PG_FILE
    if manifest.file(dump) is None:
        raise ValidationFailed(f"backup manifest lists no {dump}")
    for f in manifest.files:
        p = source / f.name
        if Path(f.name).name != f.name or not p.is_file():
            raise ValidationFailed(f"backup file {f.name} is missing")
        if p.stat().st_size != f.size or sha256_file(p) != f.sha256:
            raise ValidationFailed(f"backup file {f.name} does not match its checksum")
    return manifest


def _ensure_empty_data_dir(settings: Settings) -> None:
    data = settings.data_dir
    leftovers = [p.name for p in data.iterdir()] if data.is_dir() else []
    # Our own temp file from a restore that was killed is not "data".
    leftovers = [n for n in leftovers if not n.endswith(".restoring")]
    if leftovers:
        raise Conflict(
            f"data directory {data} is not empty ({', '.join(sorted(leftovers)[:5])}); "
            "restore only into an empty data directory"
        )


def restore(settings: Settings, source: Path) -> BackupReport:
    """Verify a backup and load it into an empty data directory (and database)."""
    started = time.monotonic()
    source = source.expanduser().resolve()
    manifest = verify(source)
    backend = _backend(settings)
    if manifest.backend != backend:
        raise ValidationFailed(
            f"this is a {manifest.backend} backup; the configured database is {backend}"
        )
    _ensure_empty_data_dir(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if backend == "sqlite":
        sqlite.restore(source / SQLITE_FILE, sqlite.database_path(settings.db_url), manifest.tables)
    db_engine = db.make_engine(settings)
    try:
        if backend == "postgresql":
            postgres.restore(
                db_engine,
                settings.db_url,
                source / PG_FILE,
                manifest.tables,
                settings.backup.pg_bin_dir,
            )
        # A backup from an older kbsvc is brought up to this version's schema.
        db.upgrade(db_engine)
    finally:
        db_engine.dispose()
    for name, wanted in ((SECRET_FILE, not settings.auth.secret_key), (SITE_FILE, True)):
        if manifest.file(name) and wanted:
            shutil.copyfile(source / name, settings.data_dir / name)
            with contextlib.suppress(OSError):
                os.chmod(settings.data_dir / name, 0o600)
    # The search index is not in the backup: the service rebuilds it from the database at start.
    return BackupReport(
        path=str(source),
        backend=backend,
        bytes=sum(f.size for f in manifest.files),
        seconds=round(time.monotonic() - started, 3),
        tables=manifest.tables,
    )
