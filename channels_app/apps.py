from django.apps import AppConfig


class ChannelsAppConfig(AppConfig):
    name = "channels_app"
    verbose_name = "Sales channels"

    def ready(self):
        from orders.outbox import event_dispatched

        from . import receivers

        # Outbound webhooks ride on the orders outbox (after commit, at least once, swept when a task is lost).
        event_dispatched.connect(receivers.on_event_dispatched, dispatch_uid="channels_app.webhooks")

        from orders import placement

        from . import terms

        # Price lists, payment terms and credit limits, asked by orders.services.place_order.
        placement.register_price_resolver(terms.prices_for)
        placement.register_hold_check(terms.business_terms_check)
