"""SQL helpers the models and services share."""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from .extensions import db


def among(column, values):
    """``column IN values`` for long lists. On PostgreSQL it is ``= ANY(array)``: one bound
    array instead of one parameter per value, which SQLAlchemy is slow to name."""
    values = list(values)
    if db.session.get_bind().dialect.name == "postgresql":
        array = sa.bindparam(None, values, type_=postgresql.ARRAY(column.type))
        return column == sa.any_(array)
    return column.in_(values)
