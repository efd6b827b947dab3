"""SQL helpers the models and services share."""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from .extensions import db


def among(column, values):
    """``column IN values`` for long lists. On PostgreSQL it is ``= ANY(array)``: one bound
    array instead of one parameter per value, which SQLAlchemy is slow to name."""
    values = list(values)
    if dialect() == "postgresql":
        array = sa.bindparam(None, values, type_=postgresql.ARRAY(column.type))
        return column == sa.any_(array)
    return column.in_(values)


def holds_word(column, padded, dialect: str):
    """Whether the space-separated words of ``column`` include a word; ``padded`` is the
    word with a space on each side (a bound parameter: one statement serves every word).

    Written as ``position > 0`` rather than ``LIKE '% word %'``: PostgreSQL estimates a
    LIKE from statistics that lag a growing table and then sorts the whole tail of the
    feed for each page; a position test gets a fixed estimate, so the planner walks the
    index in order and stops at the page's end.
    """
    position = sa.func.strpos if dialect == "postgresql" else sa.func.instr
    return position(column, padded) > 0


def dialect() -> str:
    return db.session.get_bind().dialect.name
