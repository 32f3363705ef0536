"""e-mail subscriptions to a service, a department or the province, and the weekly DPRD digest

``subscription`` holds each address with what it follows (a service, a department, the
province, or the DPRD digest) and the topics chosen; tokens are stored as SHA-256 hashes.
``subscription_notice`` records each event announced once. ``service_status_change`` is the
history of stored statuses (what subscribers and the DPRD digest are told about), and
``outbox_message.headers`` carries a mail's extra headers (List-Unsubscribe).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 11:45:00
"""
import sqlalchemy as sa
from alembic import op

import portal.models.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("email_hash", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("topic_status", sa.Boolean(), nullable=False),
        sa.Column("topic_incidents", sa.Boolean(), nullable=False),
        sa.Column("topic_maintenance", sa.Boolean(), nullable=False),
        sa.Column("lang", sa.String(length=5), nullable=False),
        sa.Column("confirm_token_hash", sa.String(length=64), nullable=True),
        sa.Column("confirm_expires_at", portal.models.types.UTCDateTime(timezone=True),
                  nullable=True),
        sa.Column("token_nonce", sa.String(length=32), nullable=False),
        sa.Column("unsubscribe_token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", portal.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "scope IN ('service', 'department', 'province', 'dprd_digest')",
            name=op.f("ck_subscription_scope"),
        ),
        sa.CheckConstraint(
            "(scope = 'service') = (service_id IS NOT NULL) "
            "AND (scope = 'department') = (department_id IS NOT NULL)",
            name=op.f("ck_subscription_target"),
        ),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"],
                                name=op.f("fk_subscription_department_id_department"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["service_id"], ["service.id"],
                                name=op.f("fk_subscription_service_id_service"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription")),
        sa.UniqueConstraint("confirm_token_hash",
                            name=op.f("uq_subscription_confirm_token_hash")),
        sa.UniqueConstraint("unsubscribe_token_hash",
                            name=op.f("uq_subscription_unsubscribe_token_hash")),
    )
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.create_index("ix_subscription_scope", ["scope", "confirmed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_subscription_email_hash"), ["email_hash"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_subscription_service_id"), ["service_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_subscription_department_id"), ["department_id"],
                              unique=False)

    op.create_table(
        "subscription_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=20), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("mails", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "event_type IN ('status_change', 'incident', 'incident_resolved', 'maintenance', "
            "'dprd_digest')",
            name=op.f("ck_subscription_notice_event_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_notice")),
        sa.UniqueConstraint("event_type", "event_id", name="uq_subscription_notice_event"),
    )

    op.create_table(
        "service_status_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=False),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("changed_at", portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason_params", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["service_id"], ["service.id"],
                                name=op.f("fk_service_status_change_service_id_service"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_status_change")),
    )
    with op.batch_alter_table("service_status_change", schema=None) as batch_op:
        batch_op.create_index("ix_service_status_change_changed_at", ["changed_at"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_service_status_change_service_id"),
                              ["service_id"], unique=False)

    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("headers", sa.Text(), server_default="", nullable=False))


def downgrade():
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("headers")

    with op.batch_alter_table("service_status_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_status_change_service_id"))
        batch_op.drop_index("ix_service_status_change_changed_at")
    op.drop_table("service_status_change")

    op.drop_table("subscription_notice")

    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscription_department_id"))
        batch_op.drop_index(batch_op.f("ix_subscription_service_id"))
        batch_op.drop_index(batch_op.f("ix_subscription_email_hash"))
        batch_op.drop_index("ix_subscription_scope")
    op.drop_table("subscription")
