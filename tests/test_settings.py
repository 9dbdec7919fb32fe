"""Settings come from the environment (DESIGN.md "Settings and running"); production passes check --deploy.

Each case runs in a fresh interpreter, since settings are read once at import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What the settings read, plus what the test session itself sets (tests/e2e sets DJANGO_ALLOW_ASYNC_UNSAFE).
SERVICE_VARS = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)

READ_SETTINGS = """
import json, django
django.setup()
from django.conf import settings
from config.celery import app
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "conn_max_age": db["CONN_MAX_AGE"],
    "debug": settings.DEBUG, "allowed_hosts": settings.ALLOWED_HOSTS, "secret_key": settings.SECRET_KEY,
    "broker": app.conf.broker_url, "eager": app.conf.task_always_eager,
    "result_backend": app.conf.result_backend,
}))
"""


def _env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARS}
    return {**env, "DJANGO_SETTINGS_MODULE": "config.settings", **overrides}


def read_settings(**env: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", READ_SETTINGS], cwd=ROOT, env=_env(**env), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_with_nothing_set_it_runs_on_sqlite_under_var_with_eager_tasks():
    found = read_settings()

    assert found["engine"] == "django.db.backends.sqlite3"
    assert found["name"] == str(ROOT / "var" / "oms.sqlite3")
    assert found["eager"] is True
    assert found["broker"] == "memory://"
    assert found["debug"] is True


def test_with_redis_url_celery_uses_redis_and_stops_running_eagerly():
    found = read_settings(REDIS_URL="redis://127.0.0.1:6379/5")

    assert found["eager"] is False
    assert found["broker"] == "redis://127.0.0.1:6379/5"
    assert found["result_backend"] == "redis://127.0.0.1:6379/5"


def test_database_secret_debug_and_hosts_come_from_the_environment():
    found = read_settings(
        DATABASE_URL="postgres://oms:pw@db.internal:5432/oms",
        SECRET_KEY="from-the-environment",
        DEBUG="false",
        ALLOWED_HOSTS="oms.example.com,api.example.com",
    )

    assert found["engine"] == "django.db.backends.postgresql"
    assert found["name"] == "oms"
    assert found["conn_max_age"] > 0  # persistent connections (DESIGN.md: 60/s without them)
    assert found["secret_key"] == "from-the-environment"
    assert found["debug"] is False
    assert found["allowed_hosts"] == ["oms.example.com", "api.example.com"]


def test_production_settings_pass_check_deploy_cleanly():
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING", "--settings=config.production"],
        cwd=ROOT,
        env=_env(SECRET_KEY="x7#Kq2!vLp9@Zt4$Wm8^Rb3&Nc6*Hd1(Fg5)Js0_Ye-Ua+Io=Pl", ALLOWED_HOSTS="oms.example.com"),
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_production_refuses_to_start_without_a_secret_key():
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=_env(DJANGO_SETTINGS_MODULE="config.production", ALLOWED_HOSTS="oms.example.com"),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode != 0
    assert "SECRET_KEY" in done.stderr
