"""uploads.lease_holder: a lease whose process died can be taken at once

Revision ID: d8f2b6c1a345
Revises: c3e9a7d5f214
Create Date: 2026-12-02 09:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'd8f2b6c1a345'
down_revision = 'c3e9a7d5f214'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_holder', sa.String(length=128), nullable=True))


def downgrade():
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.drop_column('lease_holder')
