"""stored figures that let the accountability pages read no request row

Adds ``accountability_snapshot``: the accountability tables and department scorecards of the
standard periods (the last 30, 90 and 365 days), computed by the jobs that change the data
and read by the pages, the API and the downloads. It starts empty: until the next
``flask --app wsgi status refresh`` (every 10 minutes) or ``requests recompute`` fills it,
the pages compute their figures from the daily aggregates as before, and store what they
computed.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 11:45:00
"""
import sqlalchemy as sa
from alembic import op

import portal.models.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "accountability_snapshot",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=False),
        sa.Column("to_date", sa.Date(), nullable=False),
        sa.Column("computed_at", portal.models.types.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column("code_version", sa.String(length=16), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_accountability_snapshot")),
    )


def downgrade():
    op.drop_table("accountability_snapshot")
