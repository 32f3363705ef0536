"""short stored columns the public lists and counts read

- ``service_status.computed_at`` indexed: every public page reads the newest and the oldest
  evaluation (its data version, "updated N minutes ago"), which scanned the whole table.
- ``service_status.data_status``: the data status of a row evaluated under the current metric
  definitions (and not disrupted then), so that counting services by status reads a short
  column instead of searching the stored JSON. Filled here from the JSON for the rows the
  current definitions wrote (their metrics carry ``"due":``); the others stay empty and are
  judged from their JSON, as before.
- ``service.name_key_id`` / ``name_key_en``: the names casefolded, the lists' order, indexed
  so that a page of the list by name reads its own rows only. Filled here from the names.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 22:10:00
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_DATA_STATUSES = ("no_data", "insufficient_data", "meeting", "at_risk", "breaching")


def _name_key() -> sa.types.TypeEngine:
    return sa.String(length=900).with_variant(sa.String(length=900, collation="C"), "postgresql")


def upgrade():
    op.create_index(op.f("ix_service_status_computed_at"), "service_status", ["computed_at"])
    with op.batch_alter_table("service_status") as batch:
        batch.add_column(sa.Column("data_status", sa.String(length=20), nullable=True))
    with op.batch_alter_table("service") as batch:
        batch.add_column(sa.Column("name_key_id", _name_key(), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("name_key_en", _name_key(), nullable=False,
                                   server_default=""))
    bind = op.get_bind()
    status = sa.table("service_status", sa.column("service_id", sa.Integer),
                      sa.column("status", sa.String), sa.column("reason_params", sa.Text),
                      sa.column("metrics", sa.Text), sa.column("data_status", sa.String))
    filled = []
    for service_id, stored, params, metrics in bind.execute(sa.select(
            status.c.service_id, status.c.status, status.c.reason_params, status.c.metrics)):
        if '"due":' not in (metrics or ""):
            continue
        try:
            data_status = json.loads(params or "{}").get("data_status")
        except ValueError:
            continue
        if data_status == stored and data_status in _DATA_STATUSES:
            filled.append({"sid": service_id, "ds": data_status})
    if filled:
        bind.execute(status.update().where(status.c.service_id == sa.bindparam("sid"))
                     .values(data_status=sa.bindparam("ds")), filled)
    service = sa.table("service", sa.column("id", sa.Integer), sa.column("name_id", sa.String),
                       sa.column("name_en", sa.String), sa.column("name_key_id", sa.String),
                       sa.column("name_key_en", sa.String))
    keys = [{"sid": service_id, "kid": (name_id or "").casefold(),
             "ken": (name_en or name_id or "").casefold()}
            for service_id, name_id, name_en in bind.execute(
                sa.select(service.c.id, service.c.name_id, service.c.name_en))]
    if keys:
        bind.execute(service.update().where(service.c.id == sa.bindparam("sid"))
                     .values(name_key_id=sa.bindparam("kid"), name_key_en=sa.bindparam("ken")),
                     keys)
    op.create_index(op.f("ix_service_name_key_id"), "service", ["name_key_id", "id"])
    op.create_index(op.f("ix_service_name_key_en"), "service", ["name_key_en", "id"])


def downgrade():
    op.drop_index(op.f("ix_service_name_key_en"), table_name="service")
    op.drop_index(op.f("ix_service_name_key_id"), table_name="service")
    with op.batch_alter_table("service") as batch:
        batch.drop_column("name_key_en")
        batch.drop_column("name_key_id")
    with op.batch_alter_table("service_status") as batch:
        batch.drop_column("data_status")
    op.drop_index(op.f("ix_service_status_computed_at"), table_name="service_status")
