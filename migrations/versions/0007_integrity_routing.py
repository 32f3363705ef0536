"""integrity reports (routing rule 0): integrity phrases, the integrity unit, and the feedback's integrity mark

Also the tracking codes' lookup key (docs/definitions.md, "Tracking codes"): every stored code
gets the key of its spelling, so a code read over the phone with 5 for S, 2 for Z or 8 for B
(or 0 for D) finds its feedback. Codes made before held both members of those pairs, so two
old codes may share a key: the older one keeps it, and any later one gets "~" + its own code
(never a key: it is found by its exact spelling only).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 11:45:00
"""
import sqlalchemy as sa
from alembic import op

import portal.models.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The key rule as it stood when this revision was written (a migration must not change when
# the code does): each confusable mapped to its set's member of the alphabet.
_TO_KEY = str.maketrans({"O": "0", "D": "0", "I": "1", "L": "1", "Z": "2", "S": "5",
                         "B": "8", "U": "V"})
_OLD_ROUTING = "routing_rule IN ('service', 'rule', 'triage')"
_NEW_ROUTING = "routing_rule IN ('integrity', 'service', 'rule', 'triage')"


def _fill_tracking_keys() -> None:
    connection = op.get_bind()
    feedback = sa.table("feedback", sa.column("id", sa.Integer),
                        sa.column("tracking_code", sa.String),
                        sa.column("tracking_key", sa.String))
    taken: set[str] = set()
    rows = connection.execute(
        sa.select(feedback.c.id, feedback.c.tracking_code).order_by(feedback.c.id)).all()
    for row_id, code in rows:
        key = code.upper().translate(_TO_KEY)
        if key in taken:
            key = "~" + code
        taken.add(key)
        connection.execute(
            feedback.update().where(feedback.c.id == row_id).values(tracking_key=key))


def upgrade():
    op.create_table(
        "integrity_phrase",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phrase", sa.String(length=200), nullable=False),
        sa.Column("created_at", portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrity_phrase")),
        sa.UniqueConstraint("phrase", name=op.f("uq_integrity_phrase_phrase")),
    )
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_integrity_unit", sa.Boolean(), server_default="0",
                                      nullable=False))
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tracking_key", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("integrity", sa.Boolean(), server_default="0",
                                      nullable=False))
        batch_op.add_column(sa.Column("concerned_department_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_feedback_concerned_department_id_department"), "department",
            ["concerned_department_id"], ["id"])
        batch_op.drop_constraint(batch_op.f("ck_feedback_routing_rule"), type_="check")
        batch_op.create_check_constraint("routing_rule", _NEW_ROUTING)
    _fill_tracking_keys()
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.alter_column("tracking_key", existing_type=sa.String(length=16),
                              nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_feedback_tracking_key"),
                                          ["tracking_key"])


def downgrade():
    # Integrity reports become reports for the triage unit (the rule no longer exists).
    feedback = sa.table("feedback", sa.column("routing_rule", sa.String),
                        sa.column("routing_detail", sa.String))
    op.get_bind().execute(feedback.update().where(feedback.c.routing_rule == "integrity")
                          .values(routing_rule="triage", routing_detail=""))
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_feedback_routing_rule"), type_="check")
        batch_op.create_check_constraint("routing_rule", _OLD_ROUTING)
        batch_op.drop_constraint(batch_op.f("uq_feedback_tracking_key"), type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_feedback_concerned_department_id_department"),
                                 type_="foreignkey")
        batch_op.drop_column("concerned_department_id")
        batch_op.drop_column("integrity")
        batch_op.drop_column("tracking_key")
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.drop_column("is_integrity_unit")
    op.drop_table("integrity_phrase")
