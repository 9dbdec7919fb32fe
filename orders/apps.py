from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        from inventory.signals import stock_arrived

        from . import receivers

        stock_arrived.connect(receivers.on_stock_arrived, dispatch_uid="orders.allocate_backorders")

        from inventory.reservations import provider_register

        from .reservations import open_reservations

        provider_register("orders.open_shipment_lines", open_reservations)

        from . import address_checks, placement

        placement.register_hold_check(address_checks.address_hold_check)

        from . import floor_wiring

        floor_wiring.connect(self)
