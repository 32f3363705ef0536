"""due-date aggregates: every request falls due once, completed or not

Adds to ``service_day`` the requests due that day (by their completion and first-response
deadlines) and how many of them were on time, with the completion times of those completed,
and fills them from the stored requests, so an upgraded database shows correct figures at once.
Stored statuses computed under the earlier definitions are re-evaluated when read until the
next ``status refresh`` (see portal/services/metrics/status.py).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 09:30:00
"""
import json
import math
from collections import Counter, defaultdict
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

import portal.models.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# WIB has been UTC+7 without daylight saving since 1964: a fixed offset is exact here.
_WIB = timedelta(hours=7)
_INSTANT = timedelta(microseconds=1)
# The histogram format of portal/services/metrics/figures.py at this revision, copied so that
# this migration does not change when that module does.
_EXACT_KEYS_PER_DAY = 1000
_COARSE_FROM = 1000
_LOG_RATIO = math.log(1.001)


def _coarse_key(seconds: int) -> int:
    if seconds < _COARSE_FROM:
        return seconds
    return -(int(math.log(seconds / _COARSE_FROM) / _LOG_RATIO) + 1)


def _dump(histogram: Counter) -> str:
    if len(histogram) > _EXACT_KEYS_PER_DAY:
        coarse: Counter = Counter()
        for key, count in histogram.items():
            coarse[_coarse_key(key)] += count
        histogram = coarse
    return json.dumps({str(k): v for k, v in sorted(histogram.items()) if v},
                      separators=(",", ":"))


def _due_day(deadline):
    return ((deadline - _INSTANT) + _WIB).date()


def upgrade():
    with op.batch_alter_table("service_day", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("due_on_time", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("due_completion_histogram", sa.Text(),
                                      server_default="{}", nullable=False))
        batch_op.add_column(
            sa.Column("first_response_due", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("first_response_due_on_time", sa.Integer(),
                                      server_default="0", nullable=False))
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.create_index("ix_service_request_service_deadline",
                              ["service_id", "completion_deadline"], unique=False)
        batch_op.create_index("ix_service_request_service_first_deadline",
                              ["service_id", "first_response_deadline"], unique=False)
    _fill_due_aggregates()


def _fill_due_aggregates():
    """Count every stored request on its due date(s), one service at a time."""
    bind = op.get_bind()
    utc = portal.models.types.UTCDateTime()
    request = sa.table(
        "service_request",
        sa.column("id", sa.Integer), sa.column("service_id", sa.Integer),
        sa.column("received_at", utc), sa.column("first_response_at", utc),
        sa.column("completed_at", utc), sa.column("completion_deadline", utc),
        sa.column("first_response_deadline", utc),
    )
    day_table = sa.table(
        "service_day",
        sa.column("service_id", sa.Integer), sa.column("day", sa.Date),
        sa.column("received", sa.Integer), sa.column("received_online", sa.Integer),
        sa.column("completed", sa.Integer), sa.column("completed_on_time", sa.Integer),
        sa.column("first_responses", sa.Integer),
        sa.column("first_responses_on_time", sa.Integer),
        sa.column("completion_histogram", sa.Text), sa.column("due", sa.Integer),
        sa.column("due_on_time", sa.Integer), sa.column("due_completion_histogram", sa.Text),
        sa.column("first_response_due", sa.Integer),
        sa.column("first_response_due_on_time", sa.Integer),
    )
    service_ids = [row[0] for row in bind.execute(
        sa.select(request.c.service_id).distinct().order_by(request.c.service_id))]
    for service_id in service_ids:
        counts = defaultdict(lambda: [0, 0, Counter(), 0, 0])
        rows = bind.execute(sa.select(
            request.c.received_at, request.c.first_response_at, request.c.completed_at,
            request.c.completion_deadline, request.c.first_response_deadline,
        ).where(request.c.service_id == service_id))
        for received_at, answered_at, completed_at, deadline, first_deadline in rows:
            day = counts[_due_day(deadline)]
            day[0] += 1
            if completed_at is not None:
                day[1] += completed_at <= deadline
                day[2][int((completed_at - received_at).total_seconds())] += 1
            if first_deadline is not None:
                first = counts[_due_day(first_deadline)]
                first[3] += 1
                first[4] += answered_at is not None and answered_at <= first_deadline
        existing = {row[0] for row in bind.execute(
            sa.select(day_table.c.day).where(day_table.c.service_id == service_id))}
        updates, inserts = [], []
        for day, (due, on_time, histogram, first_due, first_on_time) in counts.items():
            values = {"due": due, "due_on_time": on_time,
                      "due_completion_histogram": _dump(histogram),
                      "first_response_due": first_due,
                      "first_response_due_on_time": first_on_time}
            if day in existing:
                updates.append({"b_service_id": service_id, "b_day": day, **values})
            else:
                inserts.append({"service_id": service_id, "day": day, "received": 0,
                                "received_online": 0, "completed": 0, "completed_on_time": 0,
                                "first_responses": 0, "first_responses_on_time": 0,
                                "completion_histogram": "{}", **values})
        if updates:
            bind.execute(
                day_table.update()
                .where(day_table.c.service_id == sa.bindparam("b_service_id"),
                       day_table.c.day == sa.bindparam("b_day"))
                .values({name: sa.bindparam(name) for name in (
                    "due", "due_on_time", "due_completion_histogram", "first_response_due",
                    "first_response_due_on_time")}),
                updates,
            )
        if inserts:
            bind.execute(day_table.insert(), inserts)


def downgrade():
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.drop_index("ix_service_request_service_first_deadline")
        batch_op.drop_index("ix_service_request_service_deadline")
    with op.batch_alter_table("service_day", schema=None) as batch_op:
        batch_op.drop_column("first_response_due_on_time")
        batch_op.drop_column("first_response_due")
        batch_op.drop_column("due_completion_histogram")
        batch_op.drop_column("due_on_time")
        batch_op.drop_column("due")
