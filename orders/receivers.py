"""What orders does when lower layers announce something."""

from . import tasks


def on_stock_arrived(sender, *, product_ids, location_id, **kwargs):
    """Stock grew somewhere: let waiting backorders take it (a task; eager without Redis)."""
    tasks.backorders_allocate_task.delay(product_ids=list(product_ids))
