from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "returns"
    verbose_name = "Returns"

    def ready(self):
        from . import notifications  # noqa: F401 - registers the e-mail handlers on the orders outbox
