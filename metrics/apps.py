from django.apps import AppConfig
from django.db.backends.signals import connection_created


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = "Metrics"

    def ready(self) -> None:
        from .expressions import register_sqlite_functions

        # SQLite has no percentile aggregate: give each new connection ours (metrics.expressions).
        connection_created.connect(register_sqlite_functions, dispatch_uid="metrics.sqlite_functions")
