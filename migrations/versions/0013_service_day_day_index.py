"""service_day indexed by day

The open-data page shows the first and the last day with daily figures; without an index
leading with the day, each was one probe of the primary key per service (2,000 probes at a
province's 1,000 services, most of the page's database time). With it, each is one probe.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 02:00:00
"""
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(op.f("ix_service_day_day"), "service_day", ["day"])


def downgrade():
    op.drop_index(op.f("ix_service_day_day"), table_name="service_day")
