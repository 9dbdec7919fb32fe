"""Insert many new rows of one model at once: ``bulk_create``'s result, by COPY on PostgreSQL.

An import chunk writes thousands of orders, lines, shipments and events. Django's
``bulk_create`` prepares every value of every row through each field (and on
PostgreSQL sends them as arrays psycopg escapes one element at a time), which
cost more than the rest of placing a chunk. Here the primary keys come from the
table's own sequence in one query and the rows go through ``COPY ... FROM STDIN``, in
PostgreSQL's binary form when every value is of a class that form takes as it is
(``_binary_types``; the column types come in the keys' round trip), else as text.
Like ``bulk_create``: ``pre_save`` runs (``auto_now`` dates), the objects get
their pks and are marked saved, no signals are sent. Other databases, and any
model this does not handle (a multi-table child), get ``bulk_create`` itself, and
small batches (under ``COPY_FROM`` rows) go in one ``INSERT ... VALUES ... RETURNING``
(one round trip less than fetching keys and copying), its text composed once per
model and row count and its values prepared as for COPY: an order's 1-3 lines,
shipments or events cost about half the CPU ``bulk_create`` spends composing them.

Placing one order is a handful of small statements, and each round trip to the
database cost more (here and in PostgreSQL) than the statement itself, and parsing
and planning each cost PostgreSQL more than running it. ``Batch`` sends several in
one round trip, prepared (``fetch_together`` for reads): the same inserts,
keyed by ``keys_statement`` drawn in a round trip that happens anyway.
"""

from __future__ import annotations

import contextlib
import copy
import enum
import functools
import json
import operator
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TypeVar

import orjson
from django.db import connections, models, router
from django.db.models.base import ModelState
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init
from psycopg.types.json import Jsonb

M = TypeVar("M", bound=models.Model)
COPY_FROM = 100

# Fields whose Python value PostgreSQL takes as it is (exact classes: a subclass such as a country
# field may hold an object of its own); any other is prepared as ``_column`` says.
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
    if connection.vendor != "postgresql" or meta.parents or meta.pk.attname != "id":
        return model.objects.bulk_create(objs)
    if len(objs) < COPY_FROM:
        if _database_made(model) or any(obj.pk is not None for obj in objs) or not _together(connection):
            return model.objects.bulk_create(objs)  # it knows how to read those values back, or to mix keys
        with Batch(alias) as one_insert:  # one INSERT ... VALUES ... RETURNING the keys
            return one_insert.insert(model, objs)
    fields = list(meta.concrete_fields)
    stamped = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    columns = _Columns(fields)
    relations = [f for f in fields if f.is_relation]
    table = meta.db_table
    quote = connection.ops.quote_name
    keys, types = fetch_together(
        alias, keys_statement(alias, {model: len(objs)}), _types_statement(quote(table), fields)
    )
    give_keys(keys, objs)
    with connection.cursor() as cursor:
        for obj in objs:
            for field in stamped:
                field.pre_save(obj, True)
            attrs = obj.__dict__
            for field in relations:  # built with its parent before the parent had a pk, as bulk_create allows
                if attrs.get(field.attname) is None:
                    parent = field.get_cached_value(obj, None)
                    if parent is not None:  # its key, as its descriptor sets it; the parent stays cached
                        for column, key in field.related_fields:
                            attrs[column.attname] = getattr(parent, key.attname)
        rows = [columns.row(obj, connection) for obj in objs]
        binary = _binary_types([oid for (oid,) in types], rows)
        names = ", ".join(quote(f.column) for f in fields)
        copying = cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN{' (FORMAT BINARY)' if binary else ''}")
        # wrapped: a unique violation is an IntegrityError, as from bulk_create
        with connection.wrap_database_errors, copying as copy:
            if binary:
                copy.set_types(binary)
            for row in rows:
                copy.write_row(row)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = alias
    return objs


def _types_statement(quoted_table: str, fields: Sequence[models.Field]) -> Statement:
    """The type (its oid) of each of the fields' columns, as the table has it; null for a column it lacks.
    The table's name quoted, as ``regclass`` reads it (unquoted, it would be folded to lower case)."""
    return (
        "SELECT a.atttypid FROM unnest(%s::text[]) WITH ORDINALITY AS c(name, n) LEFT JOIN pg_attribute a "
        "ON a.attrelid = %s::regclass AND a.attname = c.name AND NOT a.attisdropped ORDER BY c.n",
        [[f.column for f in fields], quoted_table],
    )


# COPY in PostgreSQL's binary form: a value in its column's own format, which neither side spells out and
# parses back as text (a timestamp, a number), about half the CPU on each side. Only for the column types
# here, and only when every value of the insert is exactly of a class listed for its column (or None), so
# that it means what its text would: anything else (a string for a number, a naive datetime, a number out of
# its column's range) and the whole insert goes as text, as PostgreSQL then reads it (or refuses it).
_BINARY: dict[int, frozenset[type]] = {
    16: frozenset({bool}),  # boolean
    20: frozenset({int}),  # bigint
    21: frozenset({int}),  # smallint
    23: frozenset({int}),  # integer
    25: frozenset({str}),  # text
    1043: frozenset({str}),  # varchar
    1700: frozenset({Decimal, int}),  # numeric
    701: frozenset({float}),  # double precision
    1082: frozenset({date}),  # date
    1184: frozenset({datetime}),  # timestamp with time zone
    2950: frozenset({uuid.UUID}),  # uuid
    3802: frozenset({Jsonb}),  # jsonb
}
_INT_BOUND = {20: 2**63, 21: 2**15, 23: 2**31}  # binary integers of a fixed width: psycopg does not check
_TIMESTAMPTZ = 1184


def _binary_types(oids: list[int | None], rows: list[list]) -> list[int] | None:
    """``oids`` when ``rows`` can be copied in binary (see ``_BINARY``), else ``None``."""
    allowed = [_BINARY.get(oid) for oid in oids]  # type: ignore[arg-type]
    if not rows or None in allowed:
        return None
    for oid, ok, values in zip(oids, allowed, zip(*rows, strict=True), strict=True):  # column by column
        kinds = set(map(type, values))
        nulls = NoneType in kinds
        kinds.discard(NoneType)
        if not kinds <= ok:  # type: ignore[operator]
            return None
        if kinds and (oid in _INT_BOUND or oid == _TIMESTAMPTZ):
            present = list(filter(_is_not_none, values)) if nulls else values
            if oid == _TIMESTAMPTZ:
                if None in map(_utcoffset, present):  # naive: text says what PostgreSQL makes of it
                    return None
            elif not -_INT_BOUND[oid] <= min(present) <= max(present) < _INT_BOUND[oid]:  # type: ignore[index]
                return None
    return oids  # type: ignore[return-value]


_is_not_none = functools.partial(operator.is_not, None)
_utcoffset = operator.methodcaller("utcoffset")
NoneType = type(None)


class _Columns:
    """An insert's columns and how its rows' values are read: from the instance's ``__dict__`` (as Django's
    descriptors read them) all at once, then the few that are not taken as they are made ready."""

    def __init__(self, fields: Sequence[models.Field]):
        columns = [_column(f) for f in fields]
        self.names = [attname for attname, _, _ in columns]
        self.read = operator.itemgetter(*self.names) if len(self.names) > 1 else lambda attrs: (attrs[self.names[0]],)
        self.prepared = [(i, *column) for i, column in enumerate(columns) if column[1] is not None]
        skip = {i for i, *_ in self.prepared}
        self.plain = [i for i in range(len(columns)) if i not in skip]

    def fresh(self) -> _Columns:
        """The same columns, remembering nothing yet (``_through_descriptor``): one insert's."""
        if all(made is None for *_, made in self.prepared):
            return self
        one = copy.copy(self)
        one.prepared = [(i, name, prepare, None if made is None else {}) for i, name, prepare, made in self.prepared]
        return one

    def row(self, obj: models.Model, connection) -> list:
        attrs = obj.__dict__
        try:
            row = list(self.read(attrs))
        except KeyError:  # a value not loaded (deferred): as its descriptor reads it
            row = [attrs[name] if name in attrs else getattr(obj, name) for name in self.names]
        for i, attname, prepare, made in self.prepared:
            if made is None:
                row[i] = prepare(row[i], connection)
            else:  # a descriptor of its own: prepared once per stored value
                row[i] = _through_descriptor(obj, attname, prepare, made, connection)
        if not _NEVER_ENUMS.issuperset(map(type, row)):
            for i in self.plain:
                if isinstance(row[i], enum.Enum):  # a choices member: its value, never psycopg's enum-by-name
                    row[i] = row[i].value
        return row


# What a row's values mostly are; a value of another type may be a choices member (an enum).
_NEVER_ENUMS = frozenset({str, int, float, bool, type(None), Decimal, datetime, date, Jsonb})


def _through_descriptor(obj: models.Model, attname: str, prepare: Prepare, made: dict, connection):
    """What ``prepare`` makes of the field's value as its descriptor gives it, remembered by the stored
    value: a country field's descriptor builds a ``Country`` on every read, which cost a third of an order
    row; the descriptor's value depends on the stored one alone."""
    stored = obj.__dict__.get(attname, _UNSET)
    key = (type(stored), stored)  # 1 and True are equal keys, not equal values
    try:
        return made[key]
    except (KeyError, TypeError):  # not seen yet, or a value that cannot be a key
        value = prepare(getattr(obj, attname), connection)
    if stored is not _UNSET:
        with contextlib.suppress(TypeError):
            made[key] = value
    return value


_UNSET = object()


Prepare = Callable[[object, object], object]


Column = tuple[str, "Prepare | None", "dict | None"]


def _column(field: models.Field) -> Column:
    """A column's attribute, how its value is made ready for PostgreSQL (``None``: as it is) and, for a
    field whose descriptor is not Django's own, what it made of each stored value (an empty dict: each
    insert starts its own, ``_through_descriptor``)."""
    if type(field) in _PLAIN:
        return field.attname, None, None
    if type(field) is models.JSONField and field.encoder is None:
        return field.attname, functools.partial(_jsonb, field), None
    own = isinstance(getattr(field.model, field.attname, None), DeferredAttribute)
    return field.attname, field.get_db_prep_save, None if own else {}


def _jsonb(field: models.JSONField, value, connection):
    """What ``get_db_prep_save`` gives for a dict or a list, encoded by orjson: the JSON of a routing
    decision or a raw payload (about 1 KB an order) cost an import more than the rest of writing its rows.
    PostgreSQL keeps jsonb parsed, so the text's spacing and key order are not stored."""
    if type(value) is dict or type(value) is list:
        return Jsonb(value, dumps=_json_bytes)
    return field.get_db_prep_save(value, connection)


_ORJSON_AS_JSON = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS  # json refuses those


def _json_bytes(value) -> bytes:
    """``json.dumps(value)``'s JSON: the same values, refused where json refuses a date or a dataclass.
    (A NaN becomes null, where json wrote a NaN that PostgreSQL refused.)"""
    try:
        return orjson.dumps(value, option=_ORJSON_AS_JSON)
    except orjson.JSONEncodeError:  # keys that are not strings, integers past 64 bits: as json writes them
        return json.dumps(value).encode()


def unsaved(model: type[M], **values) -> M:
    """``model(**values)``, the same new unsaved instance, built for rows made by the thousand.

    ``Model.__init__`` works through every field and keyword one at a time (an import chunk builds
    tens of thousands of rows, and that was a quarter of its time). Here the defaults are worked out
    once per model and copied; a related object given by name is cached and its key set, as its
    descriptor does; a field with a descriptor of its own (a country) is set through it. With a
    ``pre_init``/``post_init`` receiver for the model, ``model(**values)`` itself.
    """
    recipe = _recipe(model)
    if (pre_init.receivers or post_init.receivers) and (
        pre_init.has_listeners(model) or post_init.has_listeners(model)
    ):
        return model(**values)
    keys = tuple(values)
    plan = recipe.plans.get(keys) or recipe.plan(keys)
    obj = model.__new__(model)
    state = obj._state = ModelState()
    attrs = obj.__dict__
    attrs.update(recipe.constants)
    for attname, make in plan.made:
        attrs[attname] = make()
    attrs.update(values)  # the values as given, then a related object's key set and its name dropped
    for name, attname, target in plan.relations:
        value = attrs.pop(name)
        attrs[attname] = None if value is None else getattr(value, target)
        state.fields_cache[name] = value
    for attname in plan.set_through:
        setattr(obj, attname, values[attname])
    return obj


class _Plan:
    """How ``unsaved`` builds an instance from keywords with these names: the defaults they leave to make,
    the related objects given by name, the fields set through a descriptor of their own."""

    def __init__(self, recipe: _Recipe, model: type[models.Model], keys: tuple[str, ...]):
        for name in keys:
            if name not in recipe.relations and name not in recipe.plain and name not in recipe.set_through:
                raise TypeError(f"{model.__qualname__}() got an unexpected keyword argument '{name}'")
        given = set(keys)
        self.made = [(attname, make) for attname, make in recipe.made if attname not in given]
        self.relations = [
            (name, field.attname, field.target_field.attname)
            for name, field in recipe.relations.items()
            if name in given
        ]
        if any(attname in given for _, attname, _ in self.relations):  # both the object and its key given
            raise TypeError(f"{model.__qualname__}(): give a related object or its key, not both")
        self.set_through = [attname for attname in keys if attname in recipe.set_through]


class _Recipe:
    def __init__(self, model: type[models.Model]):
        self.constants: dict[str, object] = {}
        self.made: list[tuple[str, Callable[[], object]]] = []
        self.relations: dict[str, models.Field] = {}
        self.plain: set[str] = set()
        self.set_through: set[str] = set()
        self.model = model
        self.plans: dict[tuple[str, ...], _Plan] = {}
        for field in model._meta.concrete_fields:
            if field.has_default() and callable(field.default):
                self.made.append((field.attname, field.default))
            else:
                self.constants[field.attname] = field.get_default()
            if field.is_relation:
                self.relations[field.name] = field
            # attname: a foreign key's key, or a field whose value the instance keeps as it is given
            if hasattr(getattr(model, field.attname, None), "__set__") and not field.is_relation:
                self.set_through.add(field.attname)
            else:
                self.plain.add(field.attname)

    def plan(self, keys: tuple[str, ...]) -> _Plan:
        made = self.plans[keys] = _Plan(self, self.model, keys)
        return made


@functools.cache
def _recipe(model: type[models.Model]) -> _Recipe:
    return _Recipe(model)


Statement = tuple[str, Sequence]


class Batch:
    """Statements for one round trip: on PostgreSQL sent in one pipeline (each bound server-side, the small
    ones sent often prepared once per connection; one Sync, so one round trip); elsewhere each runs as it comes.
    Execute wrappers and the query log see the batch as one query, its statements joined by ``"; "``.

    While open (``with``), any other statement run on the connection sends the batch first, so what runs
    in between (a hold check reading the order just placed, a save) sees the rows written; leaving the
    block sends what is left, or drops it when an exception leaves (the transaction rolls back).
    ``then(rows)`` gets a statement's rows once they are back.

    ``commit=True``: for a block that is the last database work of the outermost ``transaction.atomic``
    (what follows it in the atomic touches no database and cannot fail) the COMMIT goes at the end of the
    same text, one round trip less; the atomic's own commit then finds nothing to commit and runs the
    on-commit hooks as always.
    Inside an outer transaction or savepoint (tests, a caller's atomic) it commits nothing.
    """

    def __init__(self, using: str, *, commit: bool = False):
        self.connection = connections[using]
        self.commit = commit
        self.together = _together(self.connection)
        self._statements: list[tuple[str, Sequence, Callable[[list], None] | None]] = []
        self._last_unkeyed: dict[str, models.Model] = {}  # table -> last row the database keys in this batch
        self._sending = False

    def __enter__(self) -> Batch:
        self.connection.execute_wrappers.append(self._send_first)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.connection.execute_wrappers.remove(self._send_first)
        if exc_type is None:
            if self.commit and self._statements and self.together and _outermost_transaction(self.connection):
                self._statements.append(("COMMIT", (), None))
            self.send()
        else:
            self._statements.clear()

    def _send_first(self, execute, sql, params, many, context):
        if self._statements and not self._sending:
            self.send()
        return execute(sql, params, many, context)

    def execute(self, sql: str, params: Sequence = (), then: Callable[[list], None] | None = None) -> None:
        if self.together:
            self._statements.append((sql, params, then))
            return
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall() if cursor.description is not None else []
        if then is not None:
            then(rows)

    def send(self) -> None:
        statements, self._statements = self._statements, []
        self._last_unkeyed.clear()
        if not statements:
            return
        results: list[list] = []
        self._sending = True
        try:
            cursor = _context_cursor(self.connection)  # connected, health-checked, as a statement's cursor is
            text = "; ".join(sql for sql, _, _ in statements)
            execute = functools.partial(self._pipeline, statements, text, results)
            for wrapper in reversed(self.connection.execute_wrappers):  # as Django runs them
                execute = functools.partial(wrapper, execute)
            start, context = time.monotonic(), {"connection": self.connection, "cursor": cursor}
            execute(text, [params for _, params, _ in statements], False, context)
            if self.connection.queries_logged:
                self.connection.queries_log.append({"sql": text, "time": f"{time.monotonic() - start:.3f}"})
        finally:
            self._sending = False
        for (_, _, then), rows in zip(statements, results, strict=False):
            if then is not None:
                then(rows)

    def _pipeline(self, statements, text: str, results: list, sql: str, params, many, context) -> None:
        """Send the statements in one pipeline (one Sync: one round trip, the BEGIN with them), each bound
        server-side; one sent often is prepared (the ``prepare_threshold`` of the settings): PostgreSQL parses
        and plans it once per connection, which cost it more than running it (``inventory.pipeline``).
        An execute wrapper may pass on the batch's first statements only (a fault injected after them)."""
        from . import pipeline  # only PostgreSQL sends statements together

        count = len(statements)
        if sql != text:
            count = next((k for k in range(count) if "; ".join(s for s, _, _ in statements[:k]) == sql), -1)
            if count < 0:
                raise ValueError("An execute wrapper may pass on a batch's first statements, nothing else.")
        sending = [
            (statement, statement_params, statement != "COMMIT") for statement, statement_params, _ in statements
        ]
        with self.connection.wrap_database_errors:
            results.extend(pipeline.run(self.connection.connection, sending[:count]))

    def insert(self, model: type[M], objs: Sequence[M], then: Callable[[Sequence[M]], None] | None = None):
        """``insert_many(model, objs)`` in the batch; ``then(objs)`` once they have their keys.

        Rows with keys (``keys_statement``) are marked saved at once; the others get theirs back from the
        database (``RETURNING``) when the batch is sent. A child of such a row takes its key as
        ``currval`` of the parent table's sequence, which names it while it is the last row the batch
        inserted there (insert each parent, then its children); any other child sends the batch first.
        """
        meta = model._meta
        if not objs or not self.together or meta.parents or meta.pk.attname != "id" or _database_made(model):
            insert_many(model, objs)  # nothing to batch: sent now, after what is pending
            if then is not None:
                then(objs)
            return objs
        keyed = objs[0].pk is not None
        if any((obj.pk is not None) != keyed for obj in objs):
            raise ValueError("A batch inserts rows that all have their keys, or none.")
        pending = self._pending_parents(model, objs)
        if pending is None:  # a parent the database keys, not the last one of its table: send to learn its key
            self.send()
            pending = {}
        sql, columns = _insert_sql(self.connection.alias, model, len(objs), keyed, tuple(sorted(pending)))
        columns = columns.fresh()
        fields = meta.concrete_fields
        stamped = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
        params = []
        for obj in objs:
            for field in fields:
                if field.is_relation and field.attname not in pending and getattr(obj, field.attname) is None:
                    parent = field.get_cached_value(obj, None)
                    if parent is not None and parent.pk is None:  # as bulk_create refuses it
                        raise ValueError(f"A batch insert of an unsaved related object {field.name!r}.")
                    if parent is not None:
                        setattr(obj, field.name, parent)  # its key, and the parent stays cached
            for field in stamped:
                field.pre_save(obj, True)
            params.extend(columns.row(obj, self.connection))
        alias = self.connection.alias

        def saved(rows: list) -> None:
            for i, obj in enumerate(objs):
                if not keyed:
                    obj.pk = rows[i][0]
                for attname, parent in pending.items():
                    setattr(obj, attname, parent.pk)
                obj._state.adding = False
                obj._state.db = alias
            if then is not None:
                then(objs)

        self.execute(sql, params, then=saved)
        if keyed:
            for obj in objs:  # stored for whoever looks: any other statement sends the batch first
                obj._state.adding = False
                obj._state.db = alias
        else:
            self._last_unkeyed[meta.db_table] = objs[-1]
        return objs

    def _pending_parents(self, model, objs) -> dict[str, models.Model] | None:
        """Per foreign key, the parent this batch inserted without a key (the same for every row), or None
        when a row's parent is not the last row the batch inserted into its table."""
        pending: dict[str, models.Model] = {}
        for field in model._meta.concrete_fields:
            if not field.is_relation:
                continue
            parents = {id(p): p for obj in objs if (p := field.get_cached_value(obj, None)) is not None}
            parents = {key: p for key, p in parents.items() if p.pk is None}
            if not parents:
                continue
            parent = next(iter(parents.values()))
            if len(parents) > 1 or self._last_unkeyed.get(parent._meta.db_table) is not parent:
                return None
            if any(field.get_cached_value(obj, None) is not parent for obj in objs):
                return None
            pending[field.attname] = parent
        return pending


def _context_cursor(connection):
    """What ``connection.cursor()`` gives, for a batch: the connection made (or made again) and health-checked
    as for any statement, and a cursor for the execute wrappers' context, which Django always gives them. The
    batch sends through the pipeline, never this cursor, so it is one per database connection, made once and
    never closed here (it goes with its connection): making a psycopg cursor for every batch cost more than
    binding the batch's parameters. Its errors are Django's, as the pipeline's are (``_pipeline``)."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    kept = connection.__dict__.get("_bulk_cursor")
    if kept is None or kept.connection is not connection.connection or kept.closed:
        with connection.wrap_database_errors:
            kept = connection.__dict__["_bulk_cursor"] = connection.create_cursor()
    return connection.make_cursor(kept)


def _outermost_transaction(connection) -> bool:
    """In the outermost ``atomic`` block, with autocommit turned off by it, and not marked for rollback."""
    return (
        len(connection.atomic_blocks) == 1
        and connection.commit_on_exit
        and not connection.savepoint_ids
        and not connection.needs_rollback
    )


def find_each(model: type[M], *, field: str, values, among: Mapping[str, Sequence] | None = None, **equal) -> list[M]:
    """``model.objects.filter(**equal, <field>__in=values, <name>__in=among[name]...)`` in primary-key order,
    each value of ``field`` looked up on its own on PostgreSQL (``equal`` and ``field`` should lead an index).

    An import looks up a thousand keys at a time in tables it is growing: with an ``IN`` list the planner
    scanned every row of the ``equal`` part (the channel's) whenever its statistics were behind the table
    (each batch then cost more than the one before). A LATERAL subquery it cannot flatten (``OFFSET 0``)
    makes it one look-up per value; which index serves it still depends on the statistics: a table never
    analyzed (a first import) had each value scan the channel's rows by another index that leads with
    ``channel``, so the table's statistics are renewed first when they are missing or far behind
    (``_renew_statistics``).
    """
    values = list(dict.fromkeys(values))
    among = {name: list(dict.fromkeys(wanted)) for name, wanted in (among or {}).items()}
    alias = router.db_for_read(model)
    connection = connections[alias]
    if connection.vendor != "postgresql" or not values:
        lookups = {f"{name}__in": wanted for name, wanted in among.items()}
        return list(
            model._default_manager.using(alias).filter(**equal, **lookups, **{f"{field}__in": values}).order_by("pk")
        )
    meta, quote = model._meta, connection.ops.quote_name
    _renew_statistics(connection, meta.db_table)
    key = meta.get_field(field)
    where = [f"{quote(meta.get_field(name).column)} = %s" for name in equal]
    where.append(f"{quote(key.column)} = v.value")
    where += [
        f"{quote(meta.get_field(name).column)} = ANY(%s::{meta.get_field(name).db_type(connection)}[])"
        for name in among
    ]
    sql = (
        f"SELECT {', '.join(f'r.{quote(f.column)}' for f in meta.concrete_fields)} "
        f"FROM unnest(%s::{key.db_type(connection)}[]) AS v(value) CROSS JOIN LATERAL "
        f"(SELECT * FROM {quote(meta.db_table)} WHERE {' AND '.join(where)} OFFSET 0) r "
        f"ORDER BY r.{quote(meta.pk.column)}"
    )
    params = [[key.get_db_prep_value(v, connection) for v in values]]
    params += [meta.get_field(name).get_db_prep_value(getattr(v, "pk", v), connection) for name, v in equal.items()]
    params += [
        [meta.get_field(name).get_db_prep_value(v, connection) for v in wanted] for name, wanted in among.items()
    ]
    return list(model._default_manager.db_manager(alias).raw(sql, params))


# A table analyzed at under half the pages it has now (and past this many) is analyzed again before a look-up.
STALE_PAGES = 16


def _renew_statistics(connection, table: str) -> None:
    """ANALYZE ``table`` when it was never analyzed, or has grown to twice the pages it had when it was
    (and past ``STALE_PAGES``): an import growing a table analyzes it once per doubling, where
    autovacuum may not come round for a minute. Read from the table's size, which is always current
    (the counts of changed rows reach the statistics views up to a second late). A role that does not
    own the table gets a warning from ANALYZE, not an error, and the look-up goes on as it would have."""
    quoted = connection.ops.quote_name(table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples, relpages, pg_relation_size(oid) / current_setting('block_size')::int "
            "FROM pg_class WHERE oid = %s::regclass",
            [quoted],
        )
        row = cursor.fetchone()
        if row is not None and (row[0] < 0 or row[2] > max(2 * row[1], STALE_PAGES)):
            cursor.execute(f"ANALYZE {quoted}")


def fetch_together(using: str, *statements: Statement | None) -> list[list[tuple] | None]:
    """Each statement's rows (None for a statement given as None), on PostgreSQL in one round trip."""
    results: list[list[tuple] | None] = [None] * len(statements)
    with Batch(using) as batch:
        for i, statement in enumerate(statements):
            if statement is not None:
                batch.execute(*statement, then=functools.partial(results.__setitem__, i))
    return results


def keys_statement(using: str, counts: Mapping[type[models.Model], int]) -> Statement | None:
    """Draw primary keys from the tables' sequences, ``counts`` per model (give them with ``give_keys``);
    None off PostgreSQL, where rows get their keys as they are inserted."""
    if connections[using].vendor != "postgresql":
        return None
    tables = [model._meta.db_table for model in counts]
    # Each table's sequence looked up once (MATERIALIZED), not once per key: that look-up cost ~8x the nextval.
    return (
        "WITH s AS MATERIALIZED (SELECT k.t, k.n, pg_get_serial_sequence(k.t, 'id')::regclass AS seq "
        "FROM unnest(%s::text[], %s::integer[]) AS k(t, n)) SELECT s.t, nextval(s.seq) FROM s, generate_series(1, s.n)",
        [tables, list(counts.values())],
    )


def give_keys(rows: list[tuple] | None, *groups: Sequence[models.Model]) -> None:
    """Give each group of new rows (of one model) the keys ``keys_statement`` drew for it, ascending in the
    group's order (the order they are inserted in); nothing when none were drawn (off PostgreSQL)."""
    if rows is None:
        return
    drawn: dict[str, list[int]] = {}
    for table, key in rows:
        drawn.setdefault(table, []).append(key)
    for group in groups:
        if group:
            keys = sorted(drawn[type(group[0])._meta.db_table])
            for obj, key in zip(group, keys, strict=True):
                obj.pk = key


def instances(model: type[M], rows: list[tuple] | None, using: str, extra: Sequence[str] = ()) -> list[M]:
    """Instances from rows of the model's concrete fields in their order, then ``extra`` columns set as
    attributes: what ``Model.objects.raw`` makes of the same rows."""
    connection = connections[using]
    names, columns = _columns(model)
    converters = _converters(connection, model, columns)
    width = len(names)
    made = []
    for row in rows or ():
        values = list(row)
        for i, functions, column in converters:
            for convert in functions:
                values[i] = convert(values[i], column, connection)
        obj = model.from_db(using, names, values[:width])
        for name, value in zip(extra, values[width:], strict=True):
            setattr(obj, name, value)
        made.append(obj)
    return made


def _converters(connection, model: type[models.Model], columns: list) -> list[tuple[int, list, object]]:
    """The columns whose values the backend or the field convert as they are read, with the functions:
    worked out once per connection and model (asking each column's field again cost more than the reading)."""
    known = connection.__dict__.setdefault("_bulk_converters", {})
    converters = known.get(model)
    if converters is None:
        converters = known[model] = [
            (i, functions, column)
            for i, column in enumerate(columns)
            if (functions := connection.ops.get_db_converters(column) + column.get_db_converters(connection))
        ]
    return converters


@functools.cache
def _columns(model: type[models.Model]) -> tuple[list[str], list]:
    fields = model._meta.concrete_fields
    return [f.attname for f in fields], [f.get_col(model._meta.db_table) for f in fields]


def _together(connection) -> bool:
    """Whether statements can go together: on PostgreSQL, in a pipeline (psycopg 3, libpq 14 or later)."""
    return connection.vendor == "postgresql"


@functools.cache
def _database_made(model: type[models.Model]) -> bool:
    """Values the database makes and ``bulk_create`` reads back: ``insert_many`` handles those itself."""
    meta = model._meta
    return meta.db_returning_fields != [meta.pk] or any(f.has_db_default() for f in meta.concrete_fields)


@functools.cache
def _insert_sql(
    alias: str, model: type[models.Model], count: int, keyed: bool, from_parents: tuple[str, ...]
) -> tuple[str, _Columns]:
    """The INSERT text (composed once per model, row count and key source: the fields never change while
    running) and the columns its parameters fill."""
    quote = connections[alias].ops.quote_name
    meta = model._meta
    fields = [f for f in meta.concrete_fields if keyed or f is not meta.pk]
    placeholders = []
    for field in fields:
        if field.attname in from_parents:
            parent = field.related_model._meta
            sequence = f"pg_get_serial_sequence('{quote(parent.db_table)}', '{parent.pk.column}')"
            placeholders.append(f"currval({sequence})")
        else:
            placeholders.append("%s")
    row = f"({', '.join(placeholders)})"
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES {', '.join([row] * count)}"
    )
    if not keyed:
        sql += f" RETURNING {quote(meta.pk.column)}"
    return sql, _Columns([f for f in fields if f.attname not in from_parents])
