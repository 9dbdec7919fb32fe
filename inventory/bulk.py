"""Insert many new rows of one model at once: ``bulk_create``'s result, by COPY on PostgreSQL.

An import chunk writes thousands of orders, lines, shipments and events. Django's
``bulk_create`` prepares every value of every row through each field (and on
PostgreSQL sends them as arrays psycopg escapes one element at a time), which
cost more than the rest of placing a chunk. Here the primary keys come from the
table's own sequence in one query and the rows go through ``COPY ... FROM STDIN``.
Like ``bulk_create``: ``pre_save`` runs (``auto_now`` dates), the objects get
their pks and are marked saved, no signals are sent. Other databases, and any
model this does not handle (a multi-table child), get ``bulk_create`` itself, and
so do small batches (under ``COPY_FROM`` rows), for which one INSERT is one round
trip less than fetching keys and copying.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import TypeVar

from django.db import connections, models, router

M = TypeVar("M", bound=models.Model)
COPY_FROM = 100

# Fields whose Python value PostgreSQL takes as it is (exact classes: a subclass such as a country
# field may hold an object of its own); any other goes through its get_db_prep_save.
_PLAIN = {
    models.AutoField,
    models.BigAutoField,
    models.BigIntegerField,
    models.BooleanField,
    models.CharField,
    models.DateField,
    models.DateTimeField,
    models.DecimalField,
    models.EmailField,
    models.ForeignKey,
    models.IntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.SlugField,
    models.SmallIntegerField,
    models.TextField,
    models.UUIDField,
}


def insert_many(model: type[M], objs: Sequence[M]) -> Sequence[M]:
    """Insert ``objs`` (all new) and set their primary keys; the same objects, as ``bulk_create`` returns."""
    if not objs:
        return objs
    alias = router.db_for_write(model)
    connection = connections[alias]
    meta = model._meta
    if len(objs) < COPY_FROM or connection.vendor != "postgresql" or meta.parents or meta.pk.attname != "id":
        return model.objects.bulk_create(objs)
    fields = list(meta.concrete_fields)
    stamped = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    columns = [(f.attname, None if type(f) in _PLAIN else f) for f in fields]
    relations = [f for f in fields if f.is_relation]
    table = meta.db_table
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(objs)]
        )
        pks = [row[0] for row in cursor.fetchall()]
        for obj, pk in zip(objs, pks, strict=True):
            obj.pk = pk
            for field in stamped:
                field.pre_save(obj, True)
            for field in relations:  # built with its parent before the parent had a pk, as bulk_create allows
                if getattr(obj, field.attname) is None:
                    parent = field.get_cached_value(obj, None)
                    if parent is not None:
                        setattr(obj, field.attname, parent.pk)
        names = ", ".join(quote(f.column) for f in fields)
        copying = cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN")
        # wrapped: a unique violation is an IntegrityError, as from bulk_create
        with connection.wrap_database_errors, copying as copy:
            for obj in objs:
                copy.write_row(_row(obj, columns, connection))
    for obj in objs:
        obj._state.adding = False
        obj._state.db = alias
    return objs


def _row(obj: models.Model, columns: list[tuple[str, models.Field | None]], connection) -> list:
    row = []
    for attname, prepare in columns:
        value = getattr(obj, attname)
        if prepare is not None:
            value = prepare.get_db_prep_save(value, connection)
        elif isinstance(value, enum.Enum):  # a choices member: its value, never psycopg's enum-by-name
            value = value.value
        row.append(value)
    return row
