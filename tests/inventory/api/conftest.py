import pytest

from config.celery import app as celery_app


@pytest.fixture(autouse=True)
def celery_eager():
    """Stock that arrives allocates backorders in a task; run it in-process here even when
    REDIS_URL is set (CI), so these tests see the effect. tests/test_celery_redis.py covers the worker."""
    was = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = was


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Staff users are made with a password; PBKDF2's real cost is not what these tests measure."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
