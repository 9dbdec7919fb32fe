"""A real Celery worker for the tests marked ``redis``: celery's own test worker (solo pool, a thread of the test
process), whose Django database connections are closed after each task (``task_postrun``, in the worker's
thread): left open, the thread's connection outlived the test and the test database could not be dropped at the
end of the run."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connections

from config.celery import app as celery_app


@contextmanager
def running_worker() -> Iterator[None]:
    here = threading.get_ident()

    def close_connections(**_) -> None:
        if threading.get_ident() != here:  # the worker's thread, never the test's
            connections.close_all()

    task_postrun.connect(close_connections, weak=False)
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30):
            yield
    finally:
        task_postrun.disconnect(close_connections)
