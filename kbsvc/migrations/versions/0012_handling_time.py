"""tickets: handling time the helpdesk records (工时); non-fault categories in the vocabulary

Revision ID: 0012_handling_time
Revises: 0011_attachments
Create Date: 2026-12-01 10:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0012_handling_time"
down_revision: str | None = "0011_attachments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("handling_minutes", sa.Integer(), nullable=True))
    _add_non_fault_categories()


def _add_non_fault_categories() -> None:
    """咨询 / 需求 / 账号申请 (parent 非故障) where a site's vocabulary lacks them; the reports'
    gap list leaves such tickets out. Kept on downgrade: a site may have edited them."""
    from kbsvc.timeutil import utcnow
    from kbsvc.vocab.defaults import CATEGORIES

    table = sa.table(
        "vocabulary_terms",
        sa.column("kind", sa.String),
        sa.column("value", sa.String),
        sa.column("aliases", sa.JSON),
        sa.column("parent", sa.String),
        sa.column("created_at", sqlmodel.sql.sqltypes.UTCDateTime),
        sa.column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime),
    )
    have = set(
        op.get_bind().execute(sa.select(table.c.value).where(table.c.kind == "category")).scalars()
    )
    now = utcnow()
    rows = [
        {"kind": "category", "value": value, "aliases": list(aliases), "parent": parent}
        for value, aliases, parent in CATEGORIES
        if parent == "非故障" and value not in have
    ]
    if rows:
        op.bulk_insert(table, [{**r, "created_at": now, "updated_at": now} for r in rows])


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("handling_minutes")
