"""job runs: when each periodic command ran, on which server, and how it ended

``job_run`` holds one row per run of a periodic command (status refresh, checks run, outbox
send, feedback tick, feedback digest): its start and end, its outcome (running, succeeded,
failed, skipped) with the error's class or the reason it was skipped, and the host that ran
it. The staff jobs page, the readiness check and the metrics read the last success of each.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:57:58
"""
import sqlalchemy as sa
from alembic import op

import portal.models.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=40), nullable=False),
        sa.Column("started_at", portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", portal.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_run")),
    )
    with op.batch_alter_table("job_run", schema=None) as batch_op:
        batch_op.create_index("ix_job_run_job_started_at", ["job", "started_at"], unique=False)


def downgrade():
    with op.batch_alter_table("job_run", schema=None) as batch_op:
        batch_op.drop_index("ix_job_run_job_started_at")
    op.drop_table("job_run")
