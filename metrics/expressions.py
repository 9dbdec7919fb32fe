"""SQL expressions the KPI queries need that Django does not ship: hours between two times, percentiles.

Both are written once and rendered per database, so every KPI stays one query in
the database whichever engine runs it:

- ``HoursBetween(end, start)``: ``date_part('epoch', end - start) / 3600`` on
  PostgreSQL (a float: ``EXTRACT`` answers ``numeric`` since PostgreSQL 14, which
  made the lead times of a year of orders three times slower to average and
  sort), ``(julianday(end) - julianday(start)) * 24`` on SQLite.
- ``PercentileCont(expr, fraction)``: PostgreSQL's ordered-set aggregate
  ``percentile_cont(f) WITHIN GROUP (ORDER BY expr)``. SQLite has no such
  aggregate, so ``metrics.apps`` registers one on every SQLite connection
  (``OMS_PERCENTILE_CONT``), the same way Django registers ``STDDEV_POP`` there.
  It interpolates linearly exactly like PostgreSQL's, so both engines give the
  same figure, and it can be grouped (per day, week, month) like any aggregate.
"""

from __future__ import annotations

import json
import math

from django.db.models import Aggregate, FloatField, Func

SQLITE_PERCENTILE = "OMS_PERCENTILE_CONT"
SQLITE_PERCENTILES = "OMS_PERCENTILES_CONT"


class HoursBetween(Func):
    """``end - start`` in hours, as a float (``NULL`` when either is ``NULL``)."""

    arity = 2
    output_field = FloatField()

    def __init__(self, end, start, **extra):
        super().__init__(end, start, **extra)

    def as_sql(self, compiler, connection, **extra_context):  # pragma: no cover - engines below
        raise NotImplementedError(f"HoursBetween is not written for {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra_context):
        template = "(date_part('epoch', (%(expressions)s)) / 3600.0)"
        return super().as_sql(compiler, connection, template=template, arg_joiner=" - ", **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        end, start = self.get_source_expressions()
        end_sql, end_params = compiler.compile(end)
        start_sql, start_params = compiler.compile(start)
        return f"((julianday({end_sql}) - julianday({start_sql})) * 24.0)", (*end_params, *start_params)


class PercentileCont(Aggregate):
    """The continuous percentile (linear interpolation) of a numeric expression; ``NULL``s are ignored."""

    name = "PercentileCont"
    output_field = FloatField()
    allow_distinct = False

    def __init__(self, expression, fraction: float, **extra):
        fraction = float(fraction)
        if not 0.0 <= fraction <= 1.0:
            raise ValueError("fraction must be between 0 and 1")
        self.fraction = fraction
        super().__init__(expression, **extra)

    def as_sql(self, compiler, connection, **extra_context):  # pragma: no cover - engines below
        raise NotImplementedError(f"PercentileCont is not written for {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra_context):
        # The fraction is a float we validated, rendered as a literal so GROUP BY never sees a parameter.
        template = f"PERCENTILE_CONT({self.fraction!r}) WITHIN GROUP (ORDER BY %(expressions)s)"
        return super().as_sql(compiler, connection, function="", template=template, **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        template = f"{SQLITE_PERCENTILE}(%(expressions)s, {self.fraction!r})"
        return super().as_sql(compiler, connection, function="", template=template, **extra_context)


class PercentilesCont(Aggregate):
    """Several continuous percentiles of one expression from a single sort, as a list (``None`` when no value).

    PostgreSQL sorts once per ``percentile_cont`` call, even when two calls
    order by the same expression; ``percentile_cont(ARRAY[...])`` sorts once for
    all. A year of lead times is a million values: one sort instead of two.
    """

    name = "PercentilesCont"
    output_field = FloatField()  # per element; get_db_converters below returns the list
    allow_distinct = False

    def __init__(self, expression, fractions: tuple[float, ...], **extra):
        self.fractions = tuple(float(f) for f in fractions)
        if not self.fractions or not all(0.0 <= f <= 1.0 for f in self.fractions):
            raise ValueError("fractions must be between 0 and 1")
        super().__init__(expression, **extra)

    def as_sql(self, compiler, connection, **extra_context):  # pragma: no cover - engines below
        raise NotImplementedError(f"PercentilesCont is not written for {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra_context):
        fractions = ", ".join(repr(f) for f in self.fractions)
        template = f"PERCENTILE_CONT(ARRAY[{fractions}]::float8[]) WITHIN GROUP (ORDER BY %(expressions)s)"
        return super().as_sql(compiler, connection, function="", template=template, **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        fractions = ",".join(repr(f) for f in self.fractions)
        template = f"{SQLITE_PERCENTILES}(%(expressions)s, '{fractions}')"
        return super().as_sql(compiler, connection, function="", template=template, **extra_context)

    def get_db_converters(self, connection):
        return [self._as_list]

    def _as_list(self, value, expression, connection):
        if value is None:
            return [None] * len(self.fractions)
        if isinstance(value, str):  # SQLite: the aggregate below answers JSON
            value = json.loads(value)
        return [None if v is None else float(v) for v in value]


def percentile_cont(values: list[float], fraction: float) -> float | None:
    """PostgreSQL's ``percentile_cont`` on a list: sort, then interpolate between the two nearest ranks."""
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


class SQLitePercentileCont:
    """The Python aggregate behind ``OMS_PERCENTILE_CONT(value, fraction)`` on SQLite."""

    def __init__(self):
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, value, fraction):
        self.fraction = fraction
        if value is not None:
            self.values.append(value)

    def finalize(self):
        return percentile_cont(self.values, self.fraction)


class SQLitePercentilesCont(SQLitePercentileCont):
    """``OMS_PERCENTILES_CONT(value, '0.5,0.9')`` on SQLite: the percentiles as a JSON list."""

    def finalize(self):
        fractions = [float(f) for f in str(self.fraction).split(",")]
        if not self.values:
            return None
        return json.dumps([percentile_cont(self.values, f) for f in fractions])


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: teach each new SQLite connection the percentile aggregates."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate(SQLITE_PERCENTILE, 2, SQLitePercentileCont)
        connection.connection.create_aggregate(SQLITE_PERCENTILES, 2, SQLitePercentilesCont)
