"""Shared fixtures, and the rule that service-backed tests may not skip on CI.

Tests marked ``postgres``, ``redis`` or ``browser`` skip on a bare machine.
With ``OMS_REQUIRE_SERVICES=1`` (set by ``.ci/run``) a skip of any of them
fails the run.
"""

from __future__ import annotations

import os
import shutil

import pytest
from celery._state import _set_task_join_will_block
from django.conf import settings
from rest_framework.test import APIClient

from tests import factories

SERVICE_MARKS = ("postgres", "redis", "browser")
_skipped_service_tests: list[str] = []


def pytest_collection_modifyitems(config, items):
    is_pg = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    reasons = {
        "postgres": None if is_pg else "needs PostgreSQL: set DATABASE_URL=postgres://...",
        "redis": None if os.environ.get("REDIS_URL") else "needs Redis: set REDIS_URL=redis://...",
        "browser": None if shutil.which("chromium") else "needs Debian's chromium (/usr/bin/chromium)",
    }
    for item in items:
        for mark in SERVICE_MARKS:
            if item.get_closest_marker(mark) and reasons[mark]:
                item.add_marker(pytest.mark.skip(reason=reasons[mark]))


def pytest_runtest_logreport(report):
    if report.skipped and any(m in report.keywords for m in SERVICE_MARKS):
        _skipped_service_tests.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("OMS_REQUIRE_SERVICES") == "1" and _skipped_service_tests:
        print("\nService-backed tests skipped, which CI does not allow:")
        for nodeid in _skipped_service_tests:
            print(f"  {nodeid}")
        session.exitstatus = 1


def pytest_configure(config):
    # Password hashing is deliberately slow; tests make many users and need no such strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # A Celery worker started in a test runs in this process: it must not freeze it (config/heap.py).
    settings.HEAP_SETTLE = False
    # Side by side (pytest-xdist) each process has its own test database, so the same ids: keep the throttles'
    # counters (the Redis cache, with REDIS_URL) apart too.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        for cache in settings.CACHES.values():
            cache["KEY_PREFIX"] = f"{cache.get('KEY_PREFIX', '')}-{worker}"


@pytest.fixture(autouse=True)
def _tasks_run_in_process(request):
    """With REDIS_URL set (CI) Celery would send tasks to a broker nobody consumes in a
    plain test; only tests marked ``redis`` talk to the real broker and worker."""
    from config.celery import app as celery_app

    if request.node.get_closest_marker("redis"):
        yield
        return
    was = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = was
    # An eager task marks the process "inside a task" (a global flag, so result.get() refuses) and restores
    # the flag after; threads running eager tasks at once (the concurrency tests) can restore it crosswise
    # and leave it set, failing a later test's result.get() in the same process.
    _set_task_join_will_block(False)


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def channel_with_key(db):
    return factories.channel_with_key()


@pytest.fixture
def channel(channel_with_key):
    return channel_with_key[0]


@pytest.fixture
def channel_api(channel_with_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {channel_with_key[1]}")
    return client


@pytest.fixture
def manager(db):
    return factories.UserFactory(username="manager", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_api(manager):

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {factories.staff_token(manager)}")
    return client


@pytest.fixture
def warehouse(channel):
    location = factories.LocationFactory(code="MAIN", priority=1)
    channel.locations.add(location)
    return location
