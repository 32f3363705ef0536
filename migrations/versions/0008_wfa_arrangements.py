"""each department's WFA arrangement, with a dated history

``wfa_arrangement`` holds one row per published version of a department's arrangement (whether
WFA applies, the share of ASN working remotely, the legal basis, supervision, work reporting
and IT systems, in Indonesian and English); the newest version in force is the current one.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 11:45:00
"""
import sqlalchemy as sa
from alembic import op

import portal.models.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "wfa_arrangement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("wfa_applies", sa.String(length=8), nullable=False),
        sa.Column("remote_share_percent", sa.Integer(), nullable=True),
        sa.Column("legal_basis_title", sa.String(length=300), nullable=False),
        sa.Column("legal_basis_number", sa.String(length=120), nullable=False),
        sa.Column("legal_basis_date", sa.Date(), nullable=True),
        sa.Column("legal_basis_url", sa.String(length=500), nullable=False),
        sa.Column("supervision_id", sa.Text(), nullable=False),
        sa.Column("supervision_en", sa.Text(), nullable=False),
        sa.Column("reporting_id", sa.Text(), nullable=False),
        sa.Column("reporting_en", sa.Text(), nullable=False),
        sa.Column("it_systems_id", sa.Text(), nullable=False),
        sa.Column("it_systems_en", sa.Text(), nullable=False),
        sa.Column("recorded_at", portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=120), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "wfa_applies IN ('no', 'pilot', 'yes')", name=op.f("ck_wfa_arrangement_wfa_applies")
        ),
        sa.CheckConstraint(
            "remote_share_percent IS NULL OR "
            "(remote_share_percent >= 0 AND remote_share_percent <= 100)",
            name=op.f("ck_wfa_arrangement_remote_share"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"],
            name=op.f("fk_wfa_arrangement_department_id_department"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wfa_arrangement")),
    )
    op.create_index(
        op.f("ix_wfa_arrangement_department_id"), "wfa_arrangement", ["department_id"],
        unique=False,
    )


def downgrade():
    op.drop_index(op.f("ix_wfa_arrangement_department_id"), table_name="wfa_arrangement")
    op.drop_table("wfa_arrangement")
