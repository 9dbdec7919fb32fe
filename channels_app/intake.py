"""Every way an order comes in: the raw payload is kept, whatever becomes of it.

``inbound_stage`` commits the payload in its own transaction before anything
parses it, so a payload that fails (bad JSON shape, unknown SKU, a crash half
way) is still there, ``failed`` with its error, to be fixed and replayed.
An API push is kept by the caller until it is answered: its payload is stored
with the order it becomes, in the order's transaction (``inbound_imported``),
or else on its own with its error or the order it repeats (``inbound_kept``).
``inbound_process`` parses and places one staged payload through
``orders.services.place_order`` (idempotent on channel and external id).
A bulk import (``inbound_import(bulk=True)``) stores a batch's new payloads
with their outcomes in the batch's placing transaction; if that crashes, the
batch is staged on its own first and placed one by one, as above.
"""

from __future__ import annotations

import copy
import ctypes
import hashlib
import logging
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connections, transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from inventory.bulk import Batch, find_each, insert_many, unsaved
from inventory.json_text import dumps_like
from orders import bulk_placement
from orders import services as order_services
from orders.errors import DomainError, ErrorItem, InvalidInput
from orders.models import Order

from .importers import parsers
from .models import InboundOrder, SalesChannel

log = logging.getLogger(__name__)
S = InboundOrder.Status
BATCH_SIZE = 500


_digest_text = dumps_like(sort_keys=True, separators=(",", ":"), default=str)


def payload_digest(fmt: str, payload: Any) -> str:
    """The digest of ``json.dumps([fmt, payload], sort_keys=True, separators=(",", ":"), default=str)``:
    stored, and compared with what comes in again, so the text never changes."""
    raw = _digest_text([fmt, payload])
    return hashlib.sha256(raw.encode()).hexdigest()


def error_text(items: list[ErrorItem]) -> str:
    return "; ".join(f"{item.attr}: {item.detail}" if item.attr else item.detail for item in items)


def _new(*, channel: SalesChannel, way_in: str, fmt: str, payload: Any, source: str) -> InboundOrder:
    if payload is None:
        payload = {"unparsed_body": "null"}  # a JSON null body: kept, as text, like any unparsable body
    return unsaved(
        InboundOrder,
        channel=channel,
        way_in=way_in,
        format=fmt,
        external_id=parsers.external_id_of(fmt, payload),
        payload=payload,
        digest=payload_digest(fmt, payload),
        source=source[:255],
    )


def inbound_stage(*, channel: SalesChannel, way_in: str, fmt: str, payload: Any, source: str = "") -> InboundOrder:
    """Store a payload exactly as it came, before parsing: one INSERT, committed on its own.

    Call it outside any transaction (as the API view, importers and connectors
    do), so the row survives whatever happens to the placement after it.
    """
    inbound = _new(channel=channel, way_in=way_in, fmt=fmt, payload=payload, source=source)
    inbound.save()
    return inbound


def _outcome(
    inbound: InboundOrder, *, order: Order | None, created: bool, errors: list[ErrorItem], save: bool = True
) -> None:
    inbound.attempts += 1
    if errors:
        inbound.status = S.FAILED
        inbound.errors = [{"code": e.code, "detail": e.detail, "attr": e.attr} for e in errors]
        inbound.error = error_text(errors)
    else:
        inbound.status = S.IMPORTED if created else S.DUPLICATE
        inbound.order, inbound.errors, inbound.error = order, [], ""
    if save:
        inbound.save(update_fields=["status", "order", "errors", "error", "attempts", "updated_at"])


def inbound_record(
    *, inbound: InboundOrder, order: Order | None = None, created: bool = False, errors: list[ErrorItem] = ()
) -> InboundOrder:
    """Write down what became of a staged payload placed elsewhere: one UPDATE."""
    _outcome(inbound, order=order, created=created, errors=list(errors), save=False)
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(*_outcome_statement(inbound))
    return inbound


def inbound_new(*, channel: SalesChannel, way_in: str, fmt: str, payload: Any, source: str = "") -> InboundOrder:
    """A payload exactly as it came, unsaved: the API stores it with the order it becomes
    (``inbound_imported``), or with what else became of it (``inbound_kept``)."""
    return _new(channel=channel, way_in=way_in, fmt=fmt, payload=payload, source=source)


def inbound_imported(inbound: InboundOrder, order: Order, writes: Batch) -> None:
    """Store ``inbound`` as imported into ``order`` in placing's batch (``place_order(also=...)``): the payload
    and its order commit together, one INSERT and no round trip of its own. ``inbound`` itself stays
    unsaved: should placing fail, ``inbound_kept`` stores it with the error."""
    imported = copy.copy(inbound)
    _outcome(imported, order=order, created=True, errors=[], save=False)
    writes.insert(InboundOrder, [imported])


def inbound_kept(
    *, inbound: InboundOrder, order: Order | None = None, created: bool = False, errors: list[ErrorItem] = ()
) -> InboundOrder:
    """Store a payload that did not become a new order (a retry of one, a refusal, a crash) with what became
    of it: one INSERT, committed on its own."""
    _outcome(inbound, order=order, created=created, errors=list(errors), save=False)
    inbound.save(force_insert=True)
    return inbound


def _outcome_statement(inbound: InboundOrder) -> tuple[str, list]:
    """The outcome ``_outcome`` set, as one UPDATE written out (the ORM's UPDATE cost more CPU than the
    statement)."""
    connection = transaction.get_connection()
    meta, quote = InboundOrder._meta, connection.ops.quote_name
    changes = {"status": inbound.status, "order": inbound.order_id, "errors": inbound.errors, "error": inbound.error}
    changes["updated_at"] = timezone.now()
    fields = {meta.get_field(name): value for name, value in changes.items()}
    attempts = quote(meta.get_field("attempts").column)
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {', '.join(f'{quote(f.column)} = %s' for f in fields)}, "
        f"{attempts} = {attempts} + 1 WHERE {quote(meta.pk.column)} = %s"
    )
    return sql, [f.get_db_prep_save(value, connection) for f, value in fields.items()] + [inbound.pk]


@transaction.atomic
def inbound_process(*, inbound: InboundOrder, actor: str) -> InboundOrder:
    """Parse and place one staged payload; record ``imported``, ``duplicate`` or ``failed`` with the error.

    Already imported rows are left alone. A domain error (unknown SKU, a
    conflicting retry) fails the row, not the caller.
    """
    inbound = InboundOrder.objects.select_for_update().select_related("channel").get(pk=inbound.pk)
    if inbound.status in (S.IMPORTED, S.DUPLICATE) and inbound.order_id:
        return inbound
    try:
        data = parsers.parse(inbound.format, inbound.payload)
        order, created = order_services.place_order(channel=inbound.channel, data=data, actor=actor)
    except DomainError as exc:
        _outcome(inbound, order=None, created=False, errors=_errors_of(inbound, exc))
    else:
        _outcome(inbound, order=order, created=created, errors=[])
    return inbound


def _errors_of(inbound: InboundOrder, exc: DomainError) -> list[ErrorItem]:
    errors = exc.items
    if inbound.format == InboundOrder.Format.CSV and exc.code == "idempotency_conflict":
        hint = " If this file is right, its rows of one order may not be consecutive (they must be)."
        errors = [ErrorItem(e.code, e.detail + hint, e.attr) for e in errors]
    return errors


def inbound_replay(*, inbound: InboundOrder, actor: str, payload: Any = None) -> InboundOrder:
    """Parse a staged payload again, after its cause was fixed (a product created) or its payload corrected."""
    if payload is not None:
        inbound_fix_payload(inbound=inbound, payload=payload)
    return inbound_process(inbound=inbound, actor=actor)


@transaction.atomic
def inbound_fix_payload(*, inbound: InboundOrder, payload: Any) -> InboundOrder:
    """Staff correct a payload that failed. One that was placed already stays as it was."""
    inbound = InboundOrder.objects.select_for_update().get(pk=inbound.pk)
    if inbound.status in (S.IMPORTED, S.DUPLICATE) and inbound.order_id:
        raise InvalidInput(
            [ErrorItem("already_imported", "This payload was placed already; it cannot change.", "payload")]
        )
    inbound.payload = payload
    inbound.external_id = parsers.external_id_of(inbound.format, payload)
    inbound.digest = payload_digest(inbound.format, payload)
    inbound.save(update_fields=["payload", "external_id", "digest", "updated_at"])
    return inbound


def inbound_receive(
    *, channel: SalesChannel, way_in: str, fmt: str, payload: Any, actor: str, source: str = ""
) -> InboundOrder:
    """Stage, then process: the one call for a single payload (connectors, manual entry)."""
    inbound = inbound_stage(channel=channel, way_in=way_in, fmt=fmt, payload=payload, source=source)
    return inbound_process(inbound=inbound, actor=actor)


@dataclass
class ImportResult:
    imported: int = 0
    duplicates: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.imported + self.duplicates + self.failed

    def count(self, status: str) -> None:
        if status == S.IMPORTED:
            self.imported += 1
        elif status == S.DUPLICATE:
            self.duplicates += 1
        else:
            self.failed += 1

    def __str__(self) -> str:
        return f"imported {self.imported}, duplicates {self.duplicates}, failed {self.failed}"


def inbound_import(
    *,
    channel: SalesChannel,
    fmt: str,
    payloads: Iterable[Any],
    actor: str,
    way_in: str = InboundOrder.WayIn.FILE,
    source: str = "",
    batch_size: int = BATCH_SIZE,
    on_order: Callable[[str], None] | None = None,
    bulk: bool = False,
    jobs: int = 1,
) -> ImportResult:
    """Import a stream of payloads in batches: memory holds one batch, whatever the file size.

    Each batch is staged in one transaction (one insert), then each payload is
    placed in its own. With ``bulk`` a batch is staged and placed in one
    transaction (``orders.bulk_placement``, same answers), each new payload
    stored with its outcome; should that crash, nothing of it is kept and the
    batch is staged and placed one by one, so a crash fails one order only.
    Idempotent: a payload already staged with the same content is not staged
    again; if it was placed it counts as a duplicate, if it failed it is tried
    again (its cause may be fixed by now).

    ``jobs`` > 1 (bulk, on PostgreSQL, outside any transaction): that many processes place batches side
    by side (``_Parallel``), this one reading the payloads; ``on_order`` still hears of them in order.
    """
    result = ImportResult()
    batch: list[Any] = []
    parallel = _Parallel.start(jobs) if bulk and jobs > 1 and _Parallel.possible() else None

    def counted(statuses: list[str]) -> None:
        for status in statuses:
            result.count(status)
            if on_order:
                on_order(status)

    def flush():
        kwargs = {"channel": channel, "way_in": way_in, "fmt": fmt, "payloads": list(batch), "source": source}
        batch.clear()
        if parallel is None:
            counted(_import_batch(kwargs, actor=actor, bulk=bulk))
        else:
            parallel.submit(kwargs, actor=actor, done=counted)

    try:
        for payload in payloads:
            batch.append(payload)
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
    finally:
        if parallel is not None:
            parallel.finish(done=counted)  # what was handed out is placed and counted, even if reading failed
    return result


def _import_batch(kwargs: dict, *, actor: str, bulk: bool, reserving_last: bool = False) -> list[str]:
    """One batch's statuses: placed in bulk if asked (and it does not crash), else one by one."""
    statuses = _import_in_bulk(**kwargs, actor=actor, reserving_last=reserving_last) if bulk else None
    if statuses is None:
        statuses = _import_one_by_one(**kwargs, actor=actor)
    return statuses


def _import_batch_apart(kwargs: dict, actor: str) -> list[str]:
    """``_import_batch`` in a process of ``_Parallel``'s: the stock reserved last, the connection closed
    after (the process may be idle a while, or end)."""
    try:
        return _import_batch(kwargs, actor=actor, bulk=True, reserving_last=True)
    finally:
        connections.close_all()


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent(parent: int) -> None:
    """A placing process dies with the import that forked it (killed, say): left alone it would wait for
    batches forever, or finish its own beside the import run again. Linux only; elsewhere it finishes its
    batch and waits."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)


class _Parallel:
    """Batches placed by ``jobs`` forked processes, each in its own transaction, at most two a process in
    flight (memory stays flat); statuses reported in the order the batches were read.

    Side by side, batches take the stock they plan against from what they read, unlocked, and lock it only
    to reserve, last (``bulk_placement.StockCheck``): otherwise the second would wait for the first's
    whole transaction. A batch whose stock moved under it is placed again, the stock locked first. Orders
    of different batches are placed in no set order (within a batch: the file's).
    """

    def __init__(self, pool: ProcessPoolExecutor, jobs: int):
        self.pool, self.jobs = pool, jobs
        self.pending: deque[tuple[Future, Callable[[list[str]], None]]] = deque()

    @staticmethod
    def possible() -> bool:
        connection = transaction.get_connection()
        return connection.vendor == "postgresql" and not connection.in_atomic_block

    @classmethod
    def start(cls, jobs: int) -> _Parallel:
        connections.close_all()  # the processes are forked: none may share this one's database connections
        pool = ProcessPoolExecutor(
            max_workers=jobs,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_die_with_parent,
            initargs=(os.getpid(),),
        )
        return cls(pool, jobs)

    def submit(self, kwargs: dict, *, actor: str, done: Callable[[list[str]], None]) -> None:
        self.pending.append((self.pool.submit(_import_batch_apart, kwargs, actor), done))
        while len(self.pending) > 2 * self.jobs:
            self._report_oldest()

    def _report_oldest(self) -> None:
        future, done = self.pending.popleft()
        done(future.result())

    def finish(self, *, done: Callable[[list[str]], None]) -> None:
        try:
            while self.pending:
                self._report_oldest()
        finally:
            self.pool.shutdown(cancel_futures=True)


def _statuses(staged: list[tuple[InboundOrder, bool]], before: list[str | None], outcome) -> list[str]:
    """Each staged payload's status in the batch, in order: a payload placed before, or earlier in the
    batch, is a duplicate; ``outcome(row)`` gives the others'."""
    done: dict[int, str] = {}  # the same payload twice in one batch
    statuses = []
    for (inbound, _seen), was in zip(staged, before, strict=True):
        previous = done.get(id(inbound), was)
        if previous in (S.IMPORTED, S.DUPLICATE):
            status = S.DUPLICATE
        else:
            status = done[id(inbound)] = outcome(inbound)
        statuses.append(status)
    return statuses


def _import_one_by_one(
    *, channel: SalesChannel, way_in: str, fmt: str, payloads: list[Any], source: str, actor: str
) -> list[str]:
    """Stage the batch (committed), then place each payload in its own transaction."""
    staged = _stage_batch(channel=channel, way_in=way_in, fmt=fmt, payloads=payloads, source=source)
    before = [inbound.status if seen else None for inbound, seen in staged]  # placing changes the rows
    return _statuses(staged, before, lambda inbound: _process_or_fail(inbound, actor))


def _import_in_bulk(
    *,
    channel: SalesChannel,
    way_in: str,
    fmt: str,
    payloads: list[Any],
    source: str,
    actor: str,
    reserving_last: bool = False,
) -> list[str] | None:
    """Stage, parse and place a batch in one transaction; each payload's status, in order.

    A new payload is stored with its outcome (one insert, no update after); one staged before that
    failed is tried again and its row updated. If anything crashes, nothing of the batch is kept
    and ``None`` tells the caller to stage it and place it one by one. ``reserving_last``: the stock
    is reserved after everything else is written (``bulk_placement.place_orders_reserving_last``); if
    it moved meanwhile, or another transaction placed one of the orders, the batch is placed again
    with the stock locked first.
    """
    kwargs = {"channel": channel, "way_in": way_in, "fmt": fmt, "payloads": payloads, "source": source}
    if reserving_last:
        try:
            return _bulk_attempt(**kwargs, actor=actor, reserving_last=True)
        except (bulk_placement.StockMoved, IntegrityError) as exc:
            log.info("import: a batch of %s placed again with its stock locked first: %s", len(payloads), exc)
        except Exception:  # as the attempt below would: nothing kept; that one crashes too or places it
            log.exception("import: placing a batch of %s reserving last crashed; placing it again", len(payloads))
    try:
        return _bulk_attempt(**kwargs, actor=actor, reserving_last=False)
    except Exception:
        log.exception("import: placing a batch of %s in one transaction crashed; placing it one by one", len(payloads))
        return None


def _bulk_attempt(
    *, channel: SalesChannel, way_in: str, fmt: str, payloads: list[Any], source: str, actor: str, reserving_last: bool
) -> list[str]:
    with transaction.atomic():
        staged = _stage_rows(channel=channel, way_in=way_in, fmt=fmt, payloads=payloads, source=source, store=False)
        before = [inbound.status if seen else None for inbound, seen in staged]
        todo: dict[int, InboundOrder] = {}
        for inbound, seen in staged:
            if not (seen and inbound.status in (S.IMPORTED, S.DUPLICATE)):
                todo.setdefault(id(inbound), inbound)
        check = _place_in_bulk(channel=channel, rows=list(todo.values()), actor=actor, reserving_last=reserving_last)
        fresh = [inbound for inbound in todo.values() if inbound.pk is None]
        insert_many(InboundOrder, fresh)  # with their outcomes
        again = {id(inbound) for inbound in fresh}
        _record_outcomes([inbound for inbound in todo.values() if id(inbound) not in again])
        if check is not None:
            check.reserve()  # the last write: the stock rows are locked from here to the commit only
    return _statuses(staged, before, lambda inbound: inbound.status)


def _place_in_bulk(
    *, channel: SalesChannel, rows: list[InboundOrder], actor: str, reserving_last: bool = False
) -> bulk_placement.StockCheck | None:
    """Parse and place these payloads in one chunk (``orders.bulk_placement``); each row's outcome is set,
    not saved. ``reserving_last``: the stock is not reserved yet; the returned check reserves it."""
    parsed: list[tuple[InboundOrder, Any]] = []
    for inbound in rows:
        try:
            parsed.append((inbound, parsers.parse(inbound.format, inbound.payload)))
        except DomainError as exc:
            _outcome(inbound, order=None, created=False, errors=_errors_of(inbound, exc), save=False)
    batch, check = [d for _, d in parsed], None
    if reserving_last:
        placements, check = bulk_placement.place_orders_reserving_last(channel=channel, batch=batch, actor=actor)
    else:
        placements = bulk_placement.place_orders(channel=channel, batch=batch, actor=actor)
    for (inbound, _), placement in zip(parsed, placements, strict=True):
        errors = _errors_of(inbound, placement.error) if placement.error else []
        _outcome(inbound, order=placement.order, created=placement.created, errors=errors, save=False)
    return check


def _record_outcomes(rows: list[InboundOrder]) -> None:
    """Write the outcomes ``_outcome`` set on these rows. Placed rows: one UPDATE per status, each row's order
    found by its external id (bulk_update's CASE costs rows x rows); the others (errors differ) in small batches."""
    now = timezone.now()
    placed: dict[str, list[int]] = {}
    others = []
    for row in rows:
        row.updated_at = now
        if row.order is not None and row.order.external_id == row.external_id:
            placed.setdefault(row.status, []).append(row.pk)
        else:
            others.append(row)
    order_of = Order.objects.filter(channel_id=OuterRef("channel_id"), external_id=OuterRef("external_id"))
    for status, ids in placed.items():
        InboundOrder.objects.filter(pk__in=ids).update(
            status=status,
            order_id=Subquery(order_of.values("pk")[:1]),
            errors=[],
            error="",
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    fields = ["status", "order", "errors", "error", "attempts", "updated_at"]
    InboundOrder.objects.bulk_update(others, fields, batch_size=100)


def _process_or_fail(inbound: InboundOrder, actor: str) -> str:
    """One order of a file or a pull: an unexpected crash fails that order, not the whole import."""
    try:
        return inbound_process(inbound=inbound, actor=actor).status
    except Exception as exc:
        log.exception("inbound %s: placing crashed", inbound.pk)
        inbound_record(inbound=inbound, errors=[ErrorItem("server_error", f"{type(exc).__name__}: {exc}", None)])
        return S.FAILED


@transaction.atomic
def _stage_batch(
    *, channel: SalesChannel, way_in: str, fmt: str, payloads: list[Any], source: str
) -> list[tuple[InboundOrder, bool]]:
    """Stage a batch in one transaction; return each payload's row and whether it was staged before."""
    return _stage_rows(channel=channel, way_in=way_in, fmt=fmt, payloads=payloads, source=source)


def _staged_before(channel: SalesChannel, fresh: list[InboundOrder]) -> list[InboundOrder]:
    """The rows staged before with one of these digests, oldest first: looked up by external id (the same
    payload has the same one), which is indexed, one id at a time (``find_each``); the digest is not."""
    return find_each(
        InboundOrder,
        field="external_id",
        values=[f.external_id for f in fresh],
        among={"digest": [f.digest for f in fresh]},
        channel=channel,
    )


def _stage_rows(
    *, channel: SalesChannel, way_in: str, fmt: str, payloads: list[Any], source: str, store: bool = True
) -> list[tuple[InboundOrder, bool]]:
    """Each payload's row and whether it was staged before; the new rows inserted, or with ``store=False``
    left unsaved (the bulk import inserts them with their outcome)."""
    fresh = [_new(channel=channel, way_in=way_in, fmt=fmt, payload=p, source=source) for p in payloads]
    known = {row.digest: row for row in _staged_before(channel, fresh)}
    to_create = []
    staged: list[tuple[InboundOrder, bool]] = []
    for row in fresh:
        if row.digest in known:
            staged.append((known[row.digest], True))
        else:
            known[row.digest] = row
            to_create.append(row)
            staged.append((row, False))
    if store:
        insert_many(InboundOrder, to_create)
    return staged
