"""Insert a push's new records with one statement per table instead of the unit of work.

A phone back from a day offline sends hundreds of new checks, findings and evidence at
once. The unit of work costs as much Python per object as the database spends on its row;
here each record's row is taken from the object the push rules built, the rows go out in
one statement per table (parents first). The objects stay outside the session (joining
it costs as much again); they may load what their foreign keys point to, and the change
feed is told of them (``feed.created``).

On PostgreSQL a table's rows go by COPY once there are ``COPY_FROM`` of them: psycopg
sends an executemany row by row from Python, 14 µs of CPU per row, where COPY formats
the rows in C and the server loads them in half the time (bench/sync_bench.py).
"""

from collections import defaultdict
from functools import cache

import psycopg
import sqlalchemy as sa
from psycopg import sql
from sqlalchemy.exc import IntegrityError

from ..api.records import as_text
from ..extensions import db
from ..models.base import UTCDateTime

# Rows from which a table's insert goes by COPY. Below it an executemany in the push's
# pipeline costs one round trip for all tables, COPY two per table, and a small push
# under load waits for a core at each round trip.
COPY_FROM = 100


def insert_new(session, records) -> None:
    """INSERT the transient ``records``; they stay transient, able to load related records
    through ``session``."""
    by_table = defaultdict(list)
    for record in records:
        by_table[type(record).__table__].append(record)
    for table in db.metadata.sorted_tables:  # referenced tables before referencing ones
        group = by_table.get(table)
        if group:
            mapper = sa.inspect(type(group[0]))
            links, columns = _layout(mapper)
            # Times a row does not set are the batch's one time, as SQL's now() would be.
            clock = {key: default() for _name, key, default, once in columns if once}
            write(session.connection(), table,
                  [_row(record, links, columns, clock) for record in group])
    for record in records:
        session.enable_relationship_loading(record)


def write(connection, table, rows: list[dict]) -> None:
    """INSERT ``rows``, dicts of the same column names, into ``table`` through the
    SQLAlchemy ``connection``: by COPY when there are enough of them on PostgreSQL."""
    if len(rows) < COPY_FROM or connection.dialect.name != "postgresql":
        connection.execute(sa.insert(table), rows)
        return
    names = tuple(rows[0])
    columns = list(zip(names, _processors(table, names, connection.dialect), strict=True))
    copy(connection.connection.driver_connection, table.name, names,
         ([row[name] if process is None else process(row[name]) for name, process in columns]
          for row in rows))


def copy(driver_connection, table_name: str, names, rows) -> None:
    """COPY ``rows`` (sequences of values in the order of ``names``) into the table on a
    psycopg connection. A broken constraint raises SQLAlchemy's IntegrityError, as an
    INSERT through SQLAlchemy would."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table_name), sql.SQL(", ").join(map(sql.Identifier, names)))
    try:
        with driver_connection.cursor() as cursor, cursor.copy(statement) as loading:
            for row in rows:
                loading.write_row(row)
    except psycopg.errors.IntegrityError as error:
        raise IntegrityError(statement.as_string(driver_connection), None, error) from error


@cache
def _processors(table, names: tuple, dialect) -> list:
    """What SQLAlchemy does to each column's value before the driver sees it (a time
    turned to UTC, JSON to text, an enum checked)."""
    return [_processor(table.c[name].type, dialect) for name in names]


def _processor(column_type, dialect):
    process = column_type.dialect_impl(dialect).bind_processor(dialect)
    if not isinstance(column_type, UTCDateTime):
        return process
    # The time as text: COPY writes a time by isoformat(), five times slower (four of
    # the six times a new check's rows hold were a twentieth of a push).
    return lambda value: None if value is None else as_text(process(value))


def _row(record, links, columns, clock) -> dict:
    """The record's column values, completed on the object itself as a flush would:
    foreign keys from the related objects, Python-side defaults, the first version.
    Written straight into its state: the session never flushes the object, so there is
    no change history to keep."""
    state = record.__dict__
    for relation, pairs in links:
        target = state.get(relation)
        if target is not None:
            for local, remote in pairs:
                state[local] = getattr(target, remote)
    row = {}
    for name, key, default, once in columns:
        if key not in state:
            state[key] = clock[key] if once else default()
        row[name] = state[key]
    return row


@cache
def _layout(mapper):
    """Per model, once: (many-to-one relationships with their (local, remote) attribute
    pairs, columns as (column name, attribute, default maker, a time taken once per
    batch))."""
    links = []
    for relation in mapper.relationships:
        if relation.direction is sa.orm.MANYTOONE:
            remote_mapper = relation.mapper
            links.append((relation.key, [
                (mapper.get_property_by_column(local).key,
                 remote_mapper.get_property_by_column(remote).key)
                for local, remote in relation.local_remote_pairs]))
    columns = []
    for column in mapper.local_table.columns:
        key = mapper.get_property_by_column(column).key
        default = (lambda: 1) if column is mapper.version_id_col else _default(column)
        once = isinstance(column.type, UTCDateTime) and column.default is not None
        columns.append((column.key, key, default, once))
    return links, columns


def _default(column):
    """A function making the column's Python-side default."""
    default = column.default
    if default is None:
        return lambda: None
    if default.is_scalar:
        return lambda: default.arg
    if default.is_callable:
        return lambda: default.arg(None)  # SQLAlchemy wraps a plain function to take a context
    raise TypeError(f"{column}: a SQL default cannot be computed here; give it in Python")
