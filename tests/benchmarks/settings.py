"""Settings for ``make bench``: production-like (DEBUG off), plus a validate-only baseline endpoint."""

from config.settings import *  # noqa: F403
from config.settings import REST_FRAMEWORK

DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "tests.benchmarks.urls"
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": [], "DEFAULT_THROTTLE_RATES": {}}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "ERROR"}}
