from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        from inventory.signals import stock_arrived

        from . import receivers

        stock_arrived.connect(receivers.on_stock_arrived, dispatch_uid="orders.allocate_backorders")
