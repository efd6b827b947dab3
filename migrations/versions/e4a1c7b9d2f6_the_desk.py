"""the desk: the audit chain's head, review and case decisions, notices to units

Revision ID: e4a1c7b9d2f6
Revises: d8f2b6c1a345
Create Date: 2026-12-02 11:39:25.509928

"""
import sqlalchemy as sa
from alembic import op


revision = 'e4a1c7b9d2f6'
down_revision = 'd8f2b6c1a345'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_id', sa.BigInteger(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    # The chain's head, read from its newest event (none yet on a database before the desk).
    op.execute("INSERT INTO audit_head (id, last_id, last_hash) SELECT 1, COALESCE(MAX(id), 0), "
               "COALESCE((SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1), '') "
               "FROM audit_events")
    op.create_table('notices',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_notices_case_id_cases')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_notices_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices'))
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index('ix_notices_role', ['role', 'at'], unique=False)
        batch_op.create_index('ix_notices_unit', ['unit_id', 'at'], unique=False)

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_actor', ['actor_id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('escalated_on', sa.Date(), nullable=True))
        batch_op.create_index('ix_cases_deadline', ['deadline'], unique=False)

    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reviewed_by', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_evidence_review_queue', ['review_state', 'created_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_evidence_reviewed_by_users'), 'users', ['reviewed_by'], ['id'])

    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decision_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('decided_by', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_findings_decided_by_users'), 'users', ['decided_by'], ['id'])



def downgrade():
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_findings_decided_by_users'), type_='foreignkey')
        batch_op.drop_column('decided_at')
        batch_op.drop_column('decided_by')
        batch_op.drop_column('decision_note')

    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_evidence_reviewed_by_users'), type_='foreignkey')
        batch_op.drop_index('ix_evidence_review_queue')
        batch_op.drop_column('reviewed_at')
        batch_op.drop_column('reviewed_by')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_deadline')
        batch_op.drop_column('escalated_on')
        batch_op.drop_column('notified_at')

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_actor')

    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index('ix_notices_unit')
        batch_op.drop_index('ix_notices_role')

    op.drop_table('notices')
    op.drop_table('audit_head')
