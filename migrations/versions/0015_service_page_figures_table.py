"""service_page_figures: a service page's figures in a table of their own

Revision 0014 stored a service page's figures (about 1 KB of JSON) in its service_status
row, two thirds of the row's bytes. The home page, the department list and the service list
filtered by status count services by status over every row of service_status, so each of them
read the figures' bytes too: at a province's 1,000 services, 13 MB after a few refreshes
(updated rows leave their old versions behind until a vacuum). The figures move to their own
table, one row per service, which only the service page reads; the figures already stored
move with them.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 20:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "service_page_figures",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["service_id"], ["service.id"],
                                name=op.f("fk_service_page_figures_service_id_service"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("service_id", name=op.f("pk_service_page_figures")),
    )
    op.execute("INSERT INTO service_page_figures (service_id, figures) "
               "SELECT service_id, page_figures FROM service_status "
               "WHERE page_figures IS NOT NULL")
    with op.batch_alter_table("service_status") as batch:
        batch.drop_column("page_figures")


def downgrade():
    with op.batch_alter_table("service_status") as batch:
        batch.add_column(sa.Column("page_figures", sa.Text(), nullable=True))
    op.execute("UPDATE service_status SET page_figures = (SELECT figures "
               "FROM service_page_figures "
               "WHERE service_page_figures.service_id = service_status.service_id)")
    op.drop_table("service_page_figures")
