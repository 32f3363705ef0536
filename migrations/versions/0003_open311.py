"""open311: application keys, and which key filed a feedback with the place it gave

``open311_key`` holds the keys applications file requests with through Open311 GeoReport v2
(only their SHA-256 hashes). ``open311_request`` records, beside a feedback filed that way,
which key filed it and the optional position and address the client sent: kept for staff
only, like the reporter's identity.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:34:33
"""
import sqlalchemy as sa
from alembic import op

import portal.models.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "open311_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", portal.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", portal.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_key")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_open311_key_key_hash")),
    )
    op.create_table(
        "open311_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feedback_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("address_string", sa.String(length=500), nullable=True),
        sa.Column("created_at", portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["feedback_id"], ["feedback.id"],
            name=op.f("fk_open311_request_feedback_id_feedback"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["key_id"], ["open311_key.id"], name=op.f("fk_open311_request_key_id_open311_key"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_request")),
        sa.UniqueConstraint("feedback_id", name=op.f("uq_open311_request_feedback_id")),
    )
    with op.batch_alter_table("open311_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_open311_request_key_id"), ["key_id"], unique=False)


def downgrade():
    with op.batch_alter_table("open311_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_open311_request_key_id"))
    op.drop_table("open311_request")
    op.drop_table("open311_key")
