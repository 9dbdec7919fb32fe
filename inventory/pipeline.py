"""Statements sent to PostgreSQL in one libpq pipeline, without a psycopg cursor each (``bulk.Batch``'s way out).

Placing an order sends about fifteen small statements in two round trips. Through psycopg, each was a cursor
of its own (its adapters map, its transformer, its query conversion, its prepare bookkeeping, its results):
about 3 ms of the web process's CPU per order, where dumping the parameters, sending, and loading the rows back
take about 1. Here the connection's own adapters dump and load (the values are what a cursor would send and
get), each statement's text is converted once, and it is bound server-side and prepared per connection after
the connection's ``prepare_threshold`` uses, as psycopg does (none with ``prepare_threshold`` None).

The I/O is libpq's non-blocking pipeline: everything is queued, then a Sync, then the results read back, the
socket read whenever it is readable so a large batch cannot deadlock on full buffers. The first error ends the
pipeline's work (PostgreSQL skips the rest) and is raised as psycopg raises it (``UniqueViolation``...), after
the pipeline is drained: the connection stays usable, its transaction failed, as with a cursor's error.
"""

from __future__ import annotations

import functools
import re
import select
import weakref
from collections import OrderedDict
from collections.abc import Sequence

from psycopg import ClientCursor, Connection, IsolationLevel, adapters, errors, pq
from psycopg.adapt import AdaptersMap, PyFormat, Transformer
from psycopg.postgres import types as pg_types

_ROWS, _FAILED = pq.ExecStatus.TUPLES_OK, pq.ExecStatus.FATAL_ERROR
_TIMESTAMPTZ = pg_types["timestamptz"].oid


def run(raw: Connection, statements: Sequence[tuple[str, Sequence | None, bool]]) -> list[list[tuple]]:
    """Each statement's rows (``[]`` for one that returns none), in order. A statement is ``(sql, params,
    may_prepare)``: ``%s`` placeholders (``%%`` for a literal ``%``) when there are params, the text as it
    is when there are none. The connection's transaction is begun first when psycopg would begin it."""
    pgconn, tx = raw.pgconn, _transformer(raw)
    bound = []  # converted and dumped before anything is sent: a statement refused here leaves nothing half-sent
    for sql, params, may_prepare in statements:
        if params:
            values = tx.dump_sequence(params, [PyFormat.AUTO] * len(params))
            bound.append((_numbered(sql), values, tx.types, tx.formats, may_prepare))
        else:
            bound.append((sql.encode(), None, None, None, may_prepare))
    prepared = _prepared(raw)
    sent: list[tuple[int, tuple | None]] = []  # per command sent: whose rows it gives (-1: none), or what it did
    with raw.lock:
        if pgconn.pipeline_status != pq.PipelineStatus.OFF:
            raise errors.ProgrammingError("inventory.pipeline cannot run inside a psycopg pipeline")
        pgconn.enter_pipeline_mode()
        try:
            if not raw.autocommit and pgconn.transaction_status == pq.TransactionStatus.IDLE:
                pgconn.send_query_params(_begin(raw), None)
                sent.append((-1, None))
            prepared.deallocate_stale(sent)
            for i, (query, values, types, formats, may_prepare) in enumerate(bound):
                name = prepared.name(query, types, sent) if may_prepare else None
                if name is None:
                    pgconn.send_query_params(query, values, param_types=types, param_formats=formats)
                else:
                    pgconn.send_query_prepared(name, values, param_formats=formats)
                sent.append((i, None))
            pgconn.pipeline_sync()
            _flush(pgconn)
            rows, error = _read(raw, tx, sent, len(bound), prepared)
            pgconn.exit_pipeline_mode()
        except BaseException:
            raw.close()  # results of unknown state are pending: the connection cannot be trusted (Django reconnects)
            raise
    if error is not None:
        raise error
    return rows


def _read(raw: Connection, tx, sent, count: int, prepared: _Prepared):
    pgconn = raw.pgconn
    rows: list[list[tuple]] = [[] for _ in range(count)]
    error = None
    for index, why in sent:
        result = _next_result(pgconn)
        if _next_result(pgconn) is not None:  # each command's results end with a None
            raise errors.InternalError("inventory.pipeline: more than one result for a statement")
        if result.status == _FAILED:
            error = error or errors.error_from_result(result, encoding=raw.info.encoding)
        if why is not None:  # a PREPARE or a DEALLOCATE: what the server made of it
            prepared.answered(why, result.status)
        elif index >= 0 and result.status == _ROWS:
            tx.set_pgresult(result)
            rows[index] = tx.load_rows(0, result.ntuples, tuple)
    sync = _next_result(pgconn)
    if sync is None or sync.status != pq.ExecStatus.PIPELINE_SYNC:
        raise errors.InternalError("inventory.pipeline: the pipeline did not end with its Sync")
    return rows, error


def _next_result(pgconn):
    while pgconn.is_busy():
        _wait(pgconn, select.POLLIN)
        pgconn.consume_input()
    return pgconn.get_result()


def _flush(pgconn) -> None:
    """Send what libpq holds; while the socket will not take more, read what PostgreSQL answers meanwhile."""
    while pgconn.flush():
        if _wait(pgconn, select.POLLIN | select.POLLOUT) & select.POLLIN:
            pgconn.consume_input()


def _wait(pgconn, events: int) -> int:
    poller = select.poll()
    poller.register(pgconn.socket, events | select.POLLERR | select.POLLHUP)
    while True:
        ready = poller.poll()
        if ready:
            return ready[0][1]


@functools.lru_cache(maxsize=1024)
def _numbered(sql: str) -> bytes:
    """``%s`` placeholders numbered (``$1``...), ``%%`` a ``%``; any other ``%`` is refused as psycopg refuses it."""
    count = 0

    def placeholder(match: re.Match) -> str:
        nonlocal count
        if match.group(1) == "%":
            return "%"
        if match.group(1) != "s":
            raise errors.ProgrammingError(f"only '%s' placeholders are sent in a pipeline, not {match.group(0)!r}")
        count += 1
        return f"${count}"

    return re.sub(r"%(.?)", placeholder, sql, flags=re.DOTALL).encode()


def _begin(raw: Connection) -> bytes:
    """The BEGIN psycopg sends before a statement outside autocommit, with the connection's characteristics."""
    parts = ["BEGIN"]
    if raw.isolation_level is not None:
        parts.append(f"ISOLATION LEVEL {IsolationLevel(raw.isolation_level).name.replace('_', ' ')}")
    if raw.read_only is not None:
        parts.append("READ ONLY" if raw.read_only else "READ WRITE")
    if raw.deferrable is not None:
        parts.append("DEFERRABLE" if raw.deferrable else "NOT DEFERRABLE")
    return " ".join(parts).encode()


class _Prepared:
    """The statements prepared on one connection, by text and parameter types: one sent more than
    ``prepare_threshold`` times is prepared; at most ``prepared_max``, the least recently used deallocated.

    Only beside psycopg's client-side cursors (Django's default): with server-side binding psycopg prepares
    statements of its own and, after a rollback, deallocates every statement of the session, ours too, unseen.
    """

    def __init__(self, raw: Connection):
        ours = issubclass(raw.cursor_factory, ClientCursor)  # never prepares: psycopg never deallocates all
        self.threshold, self.most = (raw.prepare_threshold if ours else None), raw.prepared_max or 0
        self.pgconn = raw.pgconn
        self.seen: OrderedDict[tuple, int] = OrderedDict()
        self.names: OrderedDict[tuple, bytes] = OrderedDict()
        self.stale: list[bytes] = []  # deallocations a failed pipeline skipped: sent again with the next one
        self.numbered = 0

    def name(self, query: bytes, types, sent: list) -> bytes | None:
        """The statement's name when it is prepared or is prepared now (its PREPARE queued first)."""
        if self.threshold is None or self.most <= 0:
            return None
        key = (query, types)
        name = self.names.get(key)
        if name is not None:
            self.names.move_to_end(key)
            return name
        seen = self.seen.pop(key, 0) + 1
        if seen <= self.threshold:
            self.seen[key] = seen
            if len(self.seen) > self.most:
                self.seen.popitem(last=False)
            return None
        if len(self.names) >= self.most:
            self._deallocate(self.names.popitem(last=False)[1], sent)
        self.numbered += 1
        name = self.names[key] = f"_oms_{self.numbered}".encode()
        self.pgconn.send_prepare(name, query, param_types=types)
        sent.append((-1, ("made", key)))
        return name

    def deallocate_stale(self, sent: list) -> None:
        stale, self.stale = self.stale, []
        for name in stale:
            self._deallocate(name, sent)

    def _deallocate(self, name: bytes, sent: list) -> None:
        self.pgconn.send_query_params(b"DEALLOCATE " + name, None)
        sent.append((-1, ("dropped", name)))

    def answered(self, why: tuple, status: pq.ExecStatus) -> None:
        done, what = why
        if done == "made" and status != pq.ExecStatus.COMMAND_OK:  # not made: prepared again next time
            self.names.pop(what, None)
        elif done == "dropped" and status == pq.ExecStatus.PIPELINE_ABORTED:  # skipped: the next pipeline
            self.stale.append(what)


_BY_CONNECTION: weakref.WeakKeyDictionary[Connection, _Prepared] = weakref.WeakKeyDictionary()


def _prepared(raw: Connection) -> _Prepared:
    prepared = _BY_CONNECTION.get(raw)
    if prepared is None:
        prepared = _BY_CONNECTION[raw] = _Prepared(raw)
    return prepared


class _Loading:
    """The connection's adapters, but psycopg's own (C) timestamptz loader where it loads what Django's does.

    Django loads timestamps with psycopg's pure-Python loader, then sets its own time zone on them: about 3 us a
    value against 0.2, and placing an order reads a dozen. psycopg's loader gives the session's TimeZone; when
    that is the zone Django's loader sets (UTC both, as Django opens its connections), the two give the same
    datetimes, and this context is used; otherwise the connection's own adapters are.
    """

    def __init__(self, raw: Connection):
        self.connection = raw
        self.adapters = AdaptersMap(raw.adapters)
        self.adapters.register_loader(_TIMESTAMPTZ, adapters.get_loader(_TIMESTAMPTZ, pq.Format.TEXT))


def _transformer(raw: Connection) -> Transformer:
    """The transformer the statements are dumped and loaded with, kept from one pipeline to the next as a
    cursor keeps its own between executes: it remembers which dumper each type of parameter takes (a new one
    looked every dumper up again, about a tenth of placing an order's pipeline work). Kept on the connection
    (it refers to it), so it goes with it; a new one when the loading context changes."""
    context = _loading(raw)
    kept = raw.__dict__.get("_oms_transformer")
    if kept is None or kept[0] is not context:
        kept = raw.__dict__["_oms_transformer"] = (context, Transformer(context))
    return kept[1]


def _loading(raw: Connection) -> Connection | _Loading:
    """What the statements' rows are loaded with (``_Loading``, when it loads the same values)."""
    django_zone = getattr(raw.adapters.get_loader(_TIMESTAMPTZ, pq.Format.TEXT), "timezone", None)
    if django_zone is None or django_zone != raw.info.timezone:
        return raw
    loading = raw.__dict__.get("_oms_loading")  # on the connection: it refers to it, and goes with it
    if loading is None:
        loading = raw.__dict__["_oms_loading"] = _Loading(raw)
    return loading
