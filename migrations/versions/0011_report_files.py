"""rendered PDF reports, kept under the digest of what they show

Adds ``report_file``: the department and province reports as PDF files, rendered by the
status refresh (the standard period) or by the first download, and read by later downloads
whose report shows the same content. It starts empty: downloads render as before and keep
what they rendered.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 15:35:00
"""
import sqlalchemy as sa
from alembic import op

import portal.models.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "report_file",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", portal.models.types.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_report_file")),
    )
    op.create_index(op.f("ix_report_file_created_at"), "report_file", ["created_at"])


def downgrade():
    op.drop_index(op.f("ix_report_file_created_at"), table_name="report_file")
    op.drop_table("report_file")
