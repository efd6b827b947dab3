"""bulletin editions (a correction is a new bulletin of the same month); deduction tables

Revision ID: f7b2d4e6a813
Revises: e4a1c7b9d2f6
Create Date: 2026-12-02 15:30:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


revision = 'f7b2d4e6a813'
down_revision = 'e4a1c7b9d2f6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('deduction_tables',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.String(length=7), nullable=False),
    sa.Column('rules', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_deduction_tables_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deduction_tables')),
    sa.UniqueConstraint('effective_from', name=op.f('uq_deduction_tables_effective_from'))
    )
    with op.batch_alter_table('bulletins', schema=None) as batch_op:
        batch_op.drop_constraint('uq_bulletins_month', type_='unique')
        batch_op.add_column(sa.Column('edition', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('corrects_id', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_bulletins_corrects_id_bulletins'), 'bulletins',
                                    ['corrects_id'], ['id'])
        batch_op.create_unique_constraint('uq_bulletins_month_edition', ['month', 'edition'])


def downgrade():
    op.drop_table('deduction_tables')
    with op.batch_alter_table('bulletins', schema=None) as batch_op:
        batch_op.drop_constraint('uq_bulletins_month_edition', type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_bulletins_corrects_id_bulletins'), type_='foreignkey')
        batch_op.drop_column('corrects_id')
        batch_op.drop_column('edition')
        batch_op.create_unique_constraint('uq_bulletins_month', ['month'])
