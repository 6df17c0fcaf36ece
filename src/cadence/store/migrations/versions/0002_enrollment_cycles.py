"""Enrollment cycles: a finished contact can be re-enrolled; touches are unique per cycle.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crm_sequence_enrollments") as batch:
        batch.add_column(sa.Column("cycle", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("crm_touches") as batch:
        batch.add_column(sa.Column("cycle", sa.Integer(), nullable=False, server_default="1"))
        batch.drop_constraint("uq_crm_touches_enrollment_step", type_="unique")
        batch.create_unique_constraint(
            "uq_crm_touches_enrollment_step_cycle", ["enrollment_id", "step_id", "cycle"]
        )


def downgrade() -> None:
    with op.batch_alter_table("crm_touches") as batch:
        batch.drop_constraint("uq_crm_touches_enrollment_step_cycle", type_="unique")
        batch.create_unique_constraint(
            "uq_crm_touches_enrollment_step", ["enrollment_id", "step_id"]
        )
        batch.drop_column("cycle")
    with op.batch_alter_table("crm_sequence_enrollments") as batch:
        batch.drop_column("cycle")
