"""bulletin renders: the state and files of a bulletin's PDF, DOCX and XLSX

Revision ID: a3c5e7f9b102
Revises: f7b2d4e6a813
Create Date: 2026-12-02 15:45:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


revision = 'a3c5e7f9b102'
down_revision = 'f7b2d4e6a813'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('bulletins', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'renders', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
            server_default='{}', nullable=False))


def downgrade():
    with op.batch_alter_table('bulletins', schema=None) as batch_op:
        batch_op.drop_column('renders')
