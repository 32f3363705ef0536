"""service_status.page_figures: a service page's figures stored with its status

The service page showed its 90-day figures, daily bar and WFA trend by reading up to 546
days and 90 completion-time histograms on every view. ``status_store`` now computes them
with the status, at the same instant, and stores them here as JSON
(portal/services/metrics/page_figures.py). Rows stored before this revision have none: their
pages compute the figures as before until the next evaluation (``flask status refresh``).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 11:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("service_status") as batch:
        batch.add_column(sa.Column("page_figures", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("service_status") as batch:
        batch.drop_column("page_figures")
