"""attachments: images and PDFs on entries, with their bytes and OCR job columns

Revision ID: 0011_attachments
Revises: 0010_key_cache
Create Date: 2026-12-01 10:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0011_attachments"
down_revision: str | None = "0010_key_cache"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "entry_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("media_type", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("ocr_status", sa.String(length=10), nullable=False),
        sa.Column("ocr_text", sa.Text(), nullable=False),
        sa.Column("ocr_pii", sa.Boolean(), nullable=False),
        sa.Column("ocr_attempts", sa.Integer(), nullable=False),
        sa.Column("ocr_next_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("ocr_lease_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("ocr_error", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["entries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("entry_id", "state", "ocr_status", "ocr_next_at"):
        op.create_index(f"ix_entry_attachments_{column}", "entry_attachments", [column])
    op.create_table(
        "attachment_blobs",
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("thumb", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["attachment_id"], ["entry_attachments.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("attachment_id"),
    )


def downgrade() -> None:
    op.drop_table("attachment_blobs")
    for column in ("entry_id", "state", "ocr_status", "ocr_next_at"):
        op.drop_index(f"ix_entry_attachments_{column}", table_name="entry_attachments")
    op.drop_table("entry_attachments")
