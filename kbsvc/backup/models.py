"""The backup manifest: what a backup folder holds, written last so it marks the folder complete."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

FORMAT: Literal["kbsvc-backup/1"] = "kbsvc-backup/1"
MANIFEST = "manifest.json"
SQLITE_FILE = "kbsvc.db"
PG_FILE = "kbsvc.pgdump"
SETTINGS_FILE = "settings.json"
SECRET_FILE = "secret_key"


class BackupFile(BaseModel):
    """One file in the backup folder with its size and sha256."""

    name: str
    size: int
    sha256: str


class Manifest(BaseModel):
    """Describes a complete backup; restore trusts nothing that this does not vouch for."""

    format: Literal["kbsvc-backup/1"] = FORMAT
    created_at: datetime
    kbsvc_version: str
    backend: Literal["sqlite", "postgresql"]
    db_revision: str | None
    files: list[BackupFile]
    # Row counts per table taken from the same snapshot as the dump; restore checks them.
    tables: dict[str, int]
    seconds: float = 0.0

    def file(self, name: str) -> BackupFile | None:
        return next((f for f in self.files if f.name == name), None)


class BackupReport(BaseModel):
    """What `backup` or `restore` did, for the CLI to print."""

    path: str
    backend: str
    bytes: int
    seconds: float
    tables: dict[str, int]
