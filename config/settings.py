"""Settings read from the environment.

With nothing set the project runs on a SQLite file under ``var/`` with Celery
tasks executed eagerly in-process, which is what ``make run`` and a bare
``make test`` use. ``config.production`` tightens this for deployment.
"""

from pathlib import Path

import dj_database_url
import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-change-me-in-production-0123456789")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_standardized_errors",
    "django_countries",
    "inventory",
    "orders",
    "channels_app",
    "returns",
    "metrics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its lockout answer.
    "axes.middleware.AxesMiddleware",
]

# Login throttling (django-axes): AXES_FAILURE_LIMIT wrong passwords for one username from one
# address lock that pair out for AXES_COOLOFF_TIME hours; a right password resets the count.
AUTHENTICATION_BACKENDS = [
    "config.login_throttle.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_TIME", default=0.25)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"

# The admin's order-file upload refuses larger files (manage.py import_orders streams any size).
ORDER_UPLOAD_MAX_BYTES = env.int("ORDER_UPLOAD_MAX_BYTES", default=50 * 2**20)

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env.str("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'oms.sqlite3'}"),
        conn_max_age=env.int("CONN_MAX_AGE", default=60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of
    # failing with "database is locked" half-way through a transaction.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A statement sent more than this many times on a connection is prepared: PostgreSQL parses and plans it once.
    # Only inventory.bulk's batches bind server-side, so only they are prepared (Django's own queries are
    # bound client-side). 0 turns it off (a pooler that cannot keep prepared statements).
    threshold = env.int("PG_PREPARE_THRESHOLD", default=5)
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = threshold or None
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Web and worker processes freeze what they loaded at start and collect young objects less often (config/heap.py).
HEAP_SETTLE = env.bool("HEAP_SETTLE", default=True)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []

# API.md: a request body over 1 MiB is refused with 413 (config.middleware).
REQUEST_BODY_LIMIT_BYTES = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024  # admin uploads; the API limit is the middleware's

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "channels_app.auth.ChannelKeyAuthentication",
        "orders.partner_auth.PartnerKeyAuthentication",
        "inventory.apikeys.StaffTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "orders.api.pagination.IdCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "config.api_schema.OmsAutoSchema",
    # The library's handler (its OpenAPI hooks document errors); our classes are in DRF_STANDARDIZED_ERRORS.
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "UNAUTHENTICATED_USER": None,
    # Per channel key (channels_app.throttling); the rate is CHANNEL_KEY_THROTTLE_RATE below.
    "DEFAULT_THROTTLE_CLASSES": ["channels_app.throttling.ChannelKeyRateThrottle"],
}
CHANNEL_KEY_THROTTLE_RATE = env.str("CHANNEL_KEY_THROTTLE_RATE", default="6000/min")
# Partner keys and staff tokens, each on its own counter (channels_app.throttling).
API_KEY_THROTTLE_RATE = env.str("API_KEY_THROTTLE_RATE", default="6000/min")

SPECTACULAR_SETTINGS = {
    "TITLE": "OMS API",
    "DESCRIPTION": "Order management: orders from every channel, stock, fulfilment, returns, KPIs.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        # Choice sets shared by several fields get one name each (no hashed "Kind592Enum").
        "OrderStatusEnum": "orders.models.OrderStatus",
        "ShipmentStatusEnum": "orders.models.ShipmentStatus",
        "PaymentStatusEnum": "orders.models.Order.PaymentStatus",
        "CustomerKindEnum": "orders.models.Customer.Kind",
        "LocationKindEnum": "inventory.models.Location.Kind",
        "MovementKindEnum": "inventory.models.StockMovement.Kind",
        "ChannelKindEnum": "channels_app.models.SalesChannel.Kind",
        "ValidationErrorEnum": "drf_standardized_errors.openapi_serializers.ValidationErrorEnum.choices",
        "ClientErrorEnum": "drf_standardized_errors.openapi_serializers.ClientErrorEnum.choices",
        "ServerErrorEnum": "drf_standardized_errors.openapi_serializers.ServerErrorEnum.choices",
        "ErrorCode401Enum": "drf_standardized_errors.openapi_serializers.ErrorCode401Enum.choices",
        "ErrorCode403Enum": "drf_standardized_errors.openapi_serializers.ErrorCode403Enum.choices",
        "ErrorCode404Enum": "drf_standardized_errors.openapi_serializers.ErrorCode404Enum.choices",
        "ErrorCode405Enum": "drf_standardized_errors.openapi_serializers.ErrorCode405Enum.choices",
        "ErrorCode406Enum": "drf_standardized_errors.openapi_serializers.ErrorCode406Enum.choices",
        "ErrorCode415Enum": "drf_standardized_errors.openapi_serializers.ErrorCode415Enum.choices",
        "ErrorCode429Enum": "drf_standardized_errors.openapi_serializers.ErrorCode429Enum.choices",
        "ErrorCode500Enum": "drf_standardized_errors.openapi_serializers.ErrorCode500Enum.choices",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
        "config.api_schema.error_items_as_answered",
    ],
}

DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "config.api_errors.ExceptionHandler",
    "EXCEPTION_FORMATTER_CLASS": "config.api_errors.ExceptionFormatter",
    # Documented on every operation that can answer them; 409 and 413 are named per view instead.
    "ALLOWED_ERROR_STATUS_CODES": ["400", "401", "403", "404", "405", "406", "415", "429", "500"],
}

# Celery: without REDIS_URL every task runs eagerly in-process (the embedded default).
REDIS_URL = env.str("REDIS_URL", default="")
# "throttle" counts API requests per channel key; shared by every web process when Redis is there.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "throttle": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "throttle"}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle"}
    ),
}
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Celery's Django fixup closes the DB connection around every task unless this is set
# (about 75 tasks/s instead of 400 on a 2-core machine, see DESIGN.md).
CELERY_DB_REUSE_MAX = 200

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="oms@localhost")

# Carriers (orders.carriers): who tracks parcels shipped with a typed tracking number
# ("manual": nobody polls; "easypost": EasyPost trackers), and EasyPost's key.
OMS_TRACKING_PROVIDER = env.str("OMS_TRACKING_PROVIDER", default="manual")
OMS_TRACKING_POLL_MINUTES = env.int("OMS_TRACKING_POLL_MINUTES", default=60)
EASYPOST_API_KEY = env.str("EASYPOST_API_KEY", default="")
EASYPOST_API_BASE = env.str("EASYPOST_API_BASE", default="https://api.easypost.com/v2")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}
