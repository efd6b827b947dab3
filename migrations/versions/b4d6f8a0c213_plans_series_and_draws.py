"""plans: weekly series and fair random draws (双随机)

Revision ID: b4d6f8a0c213
Revises: a3c5e7f9b102
Create Date: 2026-12-02 19:20:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


revision = 'b4d6f8a0c213'
down_revision = 'a3c5e7f9b102'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table(
        'draws',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('period', sa.String(length=16), nullable=False),
        sa.Column('mode', sa.Enum('open', 'covert', name='mode', native_enum=False,
                                  create_constraint=True, length=32), nullable=False),
        sa.Column('seed', sa.String(length=64), nullable=False),
        sa.Column('inputs', JSON, nullable=False),
        sa.Column('result', JSON, nullable=False),
        sa.Column('created_by', sa.Uuid(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_draws_created_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_draws')),
    )
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('series_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('draw_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_plans_series_id'), ['series_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plans_draw_id'), ['draw_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_plans_draw_id_draws'), 'draws', ['draw_id'], ['id'])


def downgrade():
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_plans_draw_id_draws'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_plans_draw_id'))
        batch_op.drop_index(batch_op.f('ix_plans_series_id'))
        batch_op.drop_column('draw_id')
        batch_op.drop_column('series_id')
    op.drop_table('draws')
