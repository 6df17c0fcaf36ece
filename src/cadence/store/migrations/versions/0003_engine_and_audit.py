"""engine and audit

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 04:24:48.771463
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "crm_audit_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("target_type", sa.String(length=50), nullable=True),
        sa.Column("target_id", sa.String(length=100), nullable=True),
        sa.Column(
            "arguments",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "result",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["crm_workspaces.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "idempotency_key", name="uq_crm_audit_idempotency"),
    )
    with op.batch_alter_table("crm_audit_log", schema=None) as batch_op:
        batch_op.create_index(
            "ix_crm_audit_workspace_time", ["workspace_id", "created_at"], unique=False
        )

    op.create_table(
        "crm_dead_letters",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "enrollment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("step_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("touch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("job_id", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(length=32), nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["enrollment_id"], ["crm_sequence_enrollments.id"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["step_id"], ["crm_sequence_steps.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["touch_id"], ["crm_touches.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["workspace_id"], ["crm_workspaces.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("crm_dead_letters", schema=None) as batch_op:
        batch_op.create_index("ix_crm_dead_letters_enrollment", ["enrollment_id"], unique=False)
        batch_op.create_index(
            "ix_crm_dead_letters_open", ["workspace_id", "resolved_at"], unique=False
        )

    with op.batch_alter_table("crm_sequence_enrollments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("job_id", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("crm_touches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:

    with op.batch_alter_table("crm_touches", schema=None) as batch_op:
        batch_op.drop_column("attempts")

    with op.batch_alter_table("crm_sequence_enrollments", schema=None) as batch_op:
        batch_op.drop_column("enqueued_at")
        batch_op.drop_column("job_id")

    with op.batch_alter_table("crm_dead_letters", schema=None) as batch_op:
        batch_op.drop_index("ix_crm_dead_letters_open")
        batch_op.drop_index("ix_crm_dead_letters_enrollment")

    op.drop_table("crm_dead_letters")
    with op.batch_alter_table("crm_audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_crm_audit_workspace_time")

    op.drop_table("crm_audit_log")
