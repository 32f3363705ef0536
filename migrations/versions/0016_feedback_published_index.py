"""feedback indexed for the published list

The public list of published feedback shows the newest 20 and counts them all; without an
index it read and sorted every feedback row (the texts too) for each page: 5 ms of the
database a page at a province's 6,000 items, growing with every item filed. With it, a
page reads its 20 rows from the index in order, and the count reads the index alone.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 09:30:00
"""
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(op.f("ix_feedback_published"), "feedback",
                    ["publish_approved", "publish_decided_at", "id"])


def downgrade():
    op.drop_index(op.f("ix_feedback_published"), table_name="feedback")
