"""config/heap.py: gunicorn's and Celery's worker processes freeze what they loaded and collect the young less
often (each in a process of its own here: freezing is for the rest of a process's life)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

from config import heap

ROOT = Path(__file__).resolve().parents[1]

REPORT = "import gc; print(gc.get_freeze_count(), gc.get_threshold())"


def _run(code: str) -> str:
    # A process as production starts it: HEAP_SETTLE at its default, whatever the shell running the tests says.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("HEAP_SETTLE", None)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_web_worker_loading_the_wsgi_app_freezes_what_it_loaded_urls_included():
    frozen, thresholds = _run(
        "import sys, config.wsgi; "
        "assert 'orders.api.views' in sys.modules, 'the URL conf was not loaded before freezing'; " + REPORT
    ).split(" ", 1)
    assert int(frozen) > 10_000  # Django and the apps, not a handful of objects
    assert thresholds == str(heap.THRESHOLDS)


def test_a_celery_worker_process_settles_once_forked():
    before, after = _run(
        "import gc; from config.celery import app; from celery.signals import worker_process_init; "
        "print(gc.get_freeze_count()); import django; django.setup(); worker_process_init.send(sender=None); " + REPORT
    ).split("\n")
    assert before == "0"
    frozen, thresholds = after.split(" ", 1)
    assert int(frozen) > 10_000
    assert thresholds == str(heap.THRESHOLDS)


def test_a_worker_started_inside_the_test_process_leaves_it_unfrozen():
    """The suite's in-process Celery workers (tests/test_celery_redis.py, solo pool) send worker_process_init
    here: the test process must not be frozen half-way through the run."""
    from celery.signals import worker_process_init

    import config.celery  # noqa: F401 - connects the receiver

    worker_process_init.send(sender=None)
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() != heap.THRESHOLDS
