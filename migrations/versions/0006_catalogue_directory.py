"""catalogue columns for search and where to go (keywords, address, phone, coordinates), DPRD commissions, and pointers to services the province does not provide

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 11:45:00
"""
import sqlalchemy as sa
from alembic import op

import portal.models.types
from portal.domain.search import search_text

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


_WHERE_TO_GO = ("address", "phone", "latitude", "longitude")


def _where_to_go_columns():
    return [
        sa.Column("address", sa.String(length=500), server_default="", nullable=False),
        sa.Column("phone", sa.String(length=60), server_default="", nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
    ]


def upgrade():
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("short_name", sa.String(length=60), server_default="", nullable=False))
        batch_op.add_column(sa.Column("dprd_commission", sa.String(length=3), nullable=True))
        for column in _where_to_go_columns():
            batch_op.add_column(column)
        batch_op.add_column(sa.Column("hours_id", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("hours_en", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("search_names", sa.Text(), server_default="", nullable=False))
        batch_op.create_check_constraint(
            "dprd_commission",
            "dprd_commission IS NULL OR dprd_commission IN ('I', 'II', 'III', 'IV')",
        )
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("keywords_id", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("keywords_en", sa.Text(), server_default="", nullable=False))
        for column in _where_to_go_columns():
            batch_op.add_column(column)
        batch_op.add_column(
            sa.Column("search_names", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("search_texts", sa.Text(), server_default="", nullable=False))
    op.create_table(
        "service_pointer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("topic_id", sa.String(length=300), nullable=False),
        sa.Column("topic_en", sa.String(length=300), nullable=False),
        sa.Column("where_id", sa.Text(), nullable=False),
        sa.Column("where_en", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("keywords_id", sa.Text(), nullable=False),
        sa.Column("keywords_en", sa.Text(), nullable=False),
        sa.Column("search_names", sa.Text(), nullable=False),
        sa.Column("created_at", portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_pointer")),
        sa.UniqueConstraint("code", name=op.f("uq_service_pointer_code")),
    )
    _fill_search_text()


_TEXTS = tuple(f"{name}_{lang}" for name in ("requirements", "procedure", "cost", "product",
                                            "hours") for lang in ("id", "en"))


def _fill_search_text():
    """Give services already stored their search words (later kept by the catalogue import)."""
    bind = op.get_bind()
    meta = sa.MetaData()
    service = sa.Table("service", meta, autoload_with=bind)
    department = sa.Table("department", meta, autoload_with=bind)
    for row in bind.execute(sa.select(department.c.id, department.c.code, department.c.name_id,
                                      department.c.name_en)).all():
        bind.execute(department.update().where(department.c.id == row.id).values(
            search_names=search_text([row.code, row.name_id, row.name_en or ""])))
    columns = [service.c[c] for c in ("id", "code", "name_id", "name_en", *_TEXTS)]
    for row in bind.execute(sa.select(*columns)).all():
        bind.execute(service.update().where(service.c.id == row.id).values(
            search_names=search_text([row.name_id, row.name_en or "", row.code]),
            search_texts=search_text([getattr(row, c) or "" for c in _TEXTS]),
        ))


def downgrade():
    op.drop_table("service_pointer")
    with op.batch_alter_table("service", schema=None) as batch_op:
        for name in ("search_texts", "search_names", *reversed(_WHERE_TO_GO), "keywords_en",
                     "keywords_id"):
            batch_op.drop_column(name)
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.drop_constraint("dprd_commission", type_="check")
        for name in ("search_names", "hours_en", "hours_id", *reversed(_WHERE_TO_GO),
                     "dprd_commission", "short_name"):
            batch_op.drop_column(name)
