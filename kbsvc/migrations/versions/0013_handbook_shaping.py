"""handbooks: hand-picked entries and notes (shaping), background export jobs

Revision ID: 0013_handbook_shaping
Revises: 0012_handling_time
Create Date: 2026-12-01 10:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0013_handbook_shaping"
down_revision: str | None = "0012_handling_time"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("handbooks", schema=None) as batch_op:
        # Existing definitions start unshaped; the default fills their rows.
        batch_op.add_column(sa.Column("shaping", sa.JSON(), nullable=False, server_default="{}"))
    op.create_table(
        "handbook_export_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handbook_id", sa.Integer(), nullable=False),
        sa.Column("edition", sa.Integer(), nullable=True),
        sa.Column("format", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("phase", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("principal", sa.JSON(), nullable=False),
        sa.Column("warning", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("result", sa.LargeBinary(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("lease_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["handbook_id"], ["handbooks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("handbook_export_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_handbook_export_jobs_handbook_id"), ["handbook_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_handbook_export_jobs_status"), ["status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("handbook_export_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handbook_export_jobs_status"))
        batch_op.drop_index(batch_op.f("ix_handbook_export_jobs_handbook_id"))
    op.drop_table("handbook_export_jobs")
    with op.batch_alter_table("handbooks", schema=None) as batch_op:
        batch_op.drop_column("shaping")
