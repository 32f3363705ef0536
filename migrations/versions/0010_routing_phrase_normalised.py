"""the normal form of routing rules' and integrity phrases' phrases, stored

Matching compares a phrase in normal form (no accents, lower case, words separated by single
spaces) and, among rules of equal priority, prefers the longest normal form. Stored, it lets
the database list the rules, a page at a time, in the order matching tries them. Existing rows
get the normal form as the code computed it when this revision was written.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 15:00:00
"""
import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLES = ("routing_rule", "integrity_phrase")
# The normalisation as it stood when this revision was written (a migration must not change
# when the code does).
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def _normalise(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_WORD.sub(" ", stripped.casefold()).strip()


def _fill(table_name: str) -> None:
    connection = op.get_bind()
    table = sa.table(table_name, sa.column("id", sa.Integer), sa.column("phrase", sa.String),
                     sa.column("normalised", sa.Text))
    for row_id, phrase in connection.execute(sa.select(table.c.id, table.c.phrase)).all():
        connection.execute(table.update().where(table.c.id == row_id)
                           .values(normalised=_normalise(phrase)))


def upgrade():
    for table_name in TABLES:
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.add_column(sa.Column("normalised", sa.Text(), nullable=True))
        _fill(table_name)
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.alter_column("normalised", existing_type=sa.Text(), nullable=False)


def downgrade():
    for table_name in TABLES:
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.drop_column("normalised")
