"""uploads keep the key of their stored bytes; index uploads by user

Each uploader's bytes are stored under their own key (evidence squatting). Uploads that
completed before keep the one key they were stored under.

Revision ID: b7c41e2a9d10
Revises: 57d598f101e3
Create Date: 2026-12-02 08:00:00

"""
import uuid

import sqlalchemy as sa
from alembic import op

revision = 'b7c41e2a9d10'
down_revision = '57d598f101e3'
branch_labels = None
depends_on = None


def _old_key(evidence_id) -> str:
    value = evidence_id if isinstance(evidence_id, uuid.UUID) else uuid.UUID(str(evidence_id))
    return f"originals/{value.hex[:2]}/{value.hex[2:4]}/{value}"


def upgrade():
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('storage_key', sa.String(length=255), nullable=True))
        batch_op.create_index('ix_uploads_user_state', ['user_id', 'state'], unique=False)
    uploads = sa.table('uploads', sa.column('id', sa.Uuid), sa.column('evidence_id', sa.Uuid),
                       sa.column('state', sa.String), sa.column('storage_key', sa.String))
    bind = op.get_bind()
    done = bind.execute(sa.select(uploads.c.id, uploads.c.evidence_id)
                        .where(uploads.c.state == 'complete')).all()
    for upload_id, evidence_id in done:
        bind.execute(uploads.update().where(uploads.c.id == upload_id)
                     .values(storage_key=_old_key(evidence_id)))


def downgrade():
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.drop_index('ix_uploads_user_state')
        batch_op.drop_column('storage_key')
