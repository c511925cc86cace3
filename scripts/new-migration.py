"""Autogenerate the next Alembic migration from the models: new-migration.py REV_ID "message"."""

import sys
import tempfile
from pathlib import Path

from alembic import command

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kbsvc.config import Settings  # noqa: E402
from kbsvc.db import alembic_config, make_engine  # noqa: E402

engine = make_engine(Settings(data_dir=Path(tempfile.mkdtemp()), database_url=""))
cfg = alembic_config(engine)
command.upgrade(cfg, "head")
command.revision(cfg, message=sys.argv[2], autogenerate=True, rev_id=sys.argv[1])
