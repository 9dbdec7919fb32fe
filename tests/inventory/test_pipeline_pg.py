"""inventory.pipeline: statements in one libpq pipeline without a psycopg cursor each. What a cursor would do
must still hold: psycopg's errors, the BEGIN with the connection's characteristics, values bound server-side,
preparing after the threshold and only where psycopg never deallocates everything behind our back."""

from __future__ import annotations

import contextlib
import threading

import psycopg
import pytest
from django.db import connection

from inventory import pipeline

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@contextlib.contextmanager
def own_connection(**settings):
    """A connection of the test's own, as Django would open it (its cursor class, its prepare threshold)."""
    params = {**connection.get_connection_params(), **settings}
    raw = psycopg.connect(**params)
    try:
        yield raw
    finally:
        raw.close()


def ours_prepared(raw) -> list[str]:
    with raw.cursor() as cursor:
        sql = "SELECT statement FROM pg_prepared_statements WHERE name LIKE %s ORDER BY prepare_time"
        cursor.execute(sql, [r"\_oms\_%"])
        return [row[0] for row in cursor.fetchall()]


def test_rows_come_back_per_statement_with_the_begin_sent_alongside():
    with own_connection() as raw:
        raw.autocommit = False
        rows = pipeline.run(
            raw,
            [
                ("SELECT %s::int, %s::text", [7, "a;b"], True),
                ("CREATE TEMP TABLE t (n int)", None, True),
                ("INSERT INTO t VALUES (%s), (%s)", [1, 2], True),
                ("SELECT n FROM t ORDER BY n", None, True),
            ],
        )
        assert rows == [[(7, "a;b")], [], [], [(1,), (2,)]]
        assert raw.pgconn.transaction_status == psycopg.pq.TransactionStatus.INTRANS  # begun, not committed
        raw.rollback()


def test_timestamps_load_as_django_loads_them_by_psycopg_s_c_loader_while_the_zones_agree():
    """The C loader is used only while it gives what Django's gives: the session's zone is the one Django sets."""
    at = "SELECT '2026-11-27 15:40:01.123456+01'::timestamptz"
    connection.ensure_connection()
    assert isinstance(pipeline._loading(connection.connection), pipeline._Loading)  # Django's own connection
    with own_connection() as raw:
        raw.autocommit = True
        raw.execute("SET TIME ZONE 'UTC'")  # as Django's connection setup does
        django_loader = raw.adapters.get_loader(pipeline._TIMESTAMPTZ, psycopg.pq.Format.TEXT)
        with raw.cursor() as cursor:
            expected = cursor.execute(at).fetchone()[0]  # what Django's own cursors load
        assert expected.tzinfo is django_loader.timezone
        [[(loaded,)]] = pipeline.run(raw, [(at, None, True)])
        assert (loaded, loaded.tzinfo) == (expected, expected.tzinfo)
        fast = pipeline._loading(raw)
        assert fast.adapters.get_loader(pipeline._TIMESTAMPTZ, psycopg.pq.Format.TEXT) is psycopg.adapters.get_loader(
            pipeline._TIMESTAMPTZ, psycopg.pq.Format.TEXT
        )
        # A session whose zone is not Django's: psycopg's loader would give Paris times; Django's loader is kept
        # (it labels the session's wall-clock time with its own zone: not the same instant, but what Django reads).
        raw.execute("SET TIME ZONE 'Europe/Paris'")
        assert pipeline._loading(raw) is raw
        with raw.cursor() as cursor:
            expected = cursor.execute(at).fetchone()[0]
        [[(loaded,)]] = pipeline.run(raw, [(at, None, True)])
        assert (loaded, loaded.tzinfo) == (expected, expected.tzinfo)


def test_the_begin_carries_the_connection_s_isolation_level_and_autocommit_sends_none():
    with own_connection() as raw:
        raw.isolation_level = psycopg.IsolationLevel.SERIALIZABLE
        raw.autocommit = False
        assert pipeline.run(raw, [("SELECT current_setting('transaction_isolation')", None, True)]) == [
            [("serializable",)]
        ]
        raw.rollback()
        raw.autocommit = True
        pipeline.run(raw, [("SELECT 1", None, True)])
        assert raw.pgconn.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_percent_signs_only_mean_placeholders_when_there_are_values():
    with own_connection() as raw:
        raw.autocommit = True
        rows = pipeline.run(raw, [("SELECT '100%%', %s::text", ["50%"], True), ("SELECT '100%%'", None, True)])
        assert rows == [[("100%", "50%")], [("100%%",)]]  # no values: the text as it is, as psycopg sends it
        with pytest.raises(psycopg.ProgrammingError, match="only '%s' placeholders"):
            pipeline.run(raw, [("SELECT %d", [1], True)])
        assert not raw.closed  # refused before anything was sent
        assert pipeline.run(raw, [("SELECT 2", None, True)]) == [[(2,)]]


def test_the_first_error_is_psycopg_s_own_the_rest_is_skipped_and_the_connection_goes_on():
    with own_connection() as raw:
        raw.autocommit = False
        pipeline.run(raw, [("CREATE TEMP TABLE u (k int PRIMARY KEY)", None, True)])
        raw.commit()
        with pytest.raises(psycopg.errors.UniqueViolation):
            pipeline.run(
                raw,
                [
                    ("INSERT INTO u VALUES (%s)", [1], True),
                    ("INSERT INTO u VALUES (%s)", [1], True),
                    ("INSERT INTO u VALUES (%s)", [2], True),
                ],
            )
        assert not raw.closed
        assert raw.pgconn.transaction_status == psycopg.pq.TransactionStatus.INERROR
        raw.rollback()
        assert pipeline.run(raw, [("SELECT count(*) FROM u", None, True)]) == [[(0,)]]
        raw.rollback()


def test_a_statement_is_prepared_after_the_threshold_and_the_oldest_deallocated_past_the_most():
    with own_connection(prepare_threshold=2) as raw:
        raw.autocommit = True
        raw.prepared_max = 2
        for _ in range(2):
            pipeline.run(raw, [("SELECT %s::int AS a", [1], True)])
        assert ours_prepared(raw) == []
        pipeline.run(raw, [("SELECT %s::int AS a", [1], True)])  # the third: prepared, then run by name
        assert ours_prepared(raw) == ["SELECT $1::int AS a"]
        for sql in ("SELECT %s::int AS b", "SELECT %s::int AS c"):
            for _ in range(3):
                assert pipeline.run(raw, [(sql, [5], True)]) == [[(5,)]]
        assert ours_prepared(raw) == ["SELECT $1::int AS b", "SELECT $1::int AS c"]
        for _ in range(4):  # may_prepare=False (the batch's COMMIT): never prepared, however often sent
            assert pipeline.run(raw, [("SELECT %s::int AS d", [6], False)]) == [[(6,)]]
        assert ours_prepared(raw) == ["SELECT $1::int AS b", "SELECT $1::int AS c"]


def test_a_deallocation_a_failed_pipeline_skipped_goes_with_the_next_one():
    with own_connection(prepare_threshold=0) as raw:
        raw.autocommit = False
        raw.prepared_max = 1
        pipeline.run(raw, [("SELECT %s::int AS a", [1], True)])
        raw.commit()
        with pytest.raises(psycopg.errors.DivisionByZero):  # a's DEALLOCATE and b's PREPARE come after it: skipped
            pipeline.run(raw, [("SELECT 1/0", None, False), ("SELECT %s::int AS b", [2], True)])
        raw.rollback()
        assert ours_prepared(raw) == ["SELECT $1::int AS a"]
        raw.rollback()
        assert pipeline.run(raw, [("SELECT 3", None, False)]) == [[(3,)]]
        assert ours_prepared(raw) == []
        assert pipeline.run(raw, [("SELECT %s::int AS b", [4], True)]) == [[(4,)]]  # prepared now, by name
        assert ours_prepared(raw) == ["SELECT $1::int AS b"]
        raw.rollback()


def test_nothing_is_prepared_without_a_threshold_or_beside_server_side_binding():
    with own_connection(prepare_threshold=None) as raw:
        raw.autocommit = True
        for _ in range(10):
            pipeline.run(raw, [("SELECT %s::int", [1], True)])
        assert ours_prepared(raw) == []
    # Server-side binding: psycopg prepares statements of its own and deallocates all of them after a rollback.
    with own_connection(prepare_threshold=0, cursor_factory=psycopg.Cursor) as raw:
        raw.autocommit = True
        for _ in range(3):
            pipeline.run(raw, [("SELECT %s::int", [1], True)])
        assert ours_prepared(raw) == []


def test_a_batch_larger_than_the_socket_buffers_both_ways_does_not_deadlock():
    """PostgreSQL answers the first statement (megabytes) while the second is still being sent (megabytes):
    sending blocked until everything is sent would wait for a server waiting for us to read."""
    big = "y" * 20_000_000
    outcome: list = []

    def send():
        with own_connection() as raw:
            raw.autocommit = True
            outcome.append(
                pipeline.run(raw, [("SELECT repeat('x', 20000000)", None, True), ("SELECT length(%s)", [big], True)])
            )

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    sender.join(timeout=60)
    assert not sender.is_alive(), "the pipeline deadlocked"
    (first, second) = outcome[0]
    assert (len(first[0][0]), second) == (20_000_000, [(20_000_000,)])


def test_the_transformer_is_kept_between_pipelines_and_goes_with_its_connection():
    """Kept on the connection, not in a table beside it: a closed connection is freed (a cache keyed by the
    connection whose value refers back to it would keep every connection a process ever opened)."""
    import gc
    import weakref

    for zone in ("UTC", "Europe/Paris"):  # the fast loading context, then the connection's own adapters
        with own_connection() as raw:
            raw.autocommit = True
            raw.execute(f"SET TIME ZONE '{zone}'")
            pipeline.run(raw, [("SELECT %s::int", [1], True)])
            kept = pipeline._transformer(raw)
            pipeline.run(raw, [("SELECT %s::text", ["a"], True)])
            assert pipeline._transformer(raw) is kept
            gone = weakref.ref(raw)
        del raw, kept
        gc.collect()
        assert gone() is None, zone
