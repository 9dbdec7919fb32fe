"""``python manage.py reorder_drafts``: what the daily task does, on demand."""

from django.core.management.base import BaseCommand

from inventory.purchasing import reorder_drafts_create


class Command(BaseCommand):
    help = "Draft purchase orders for stock rows whose available plus incoming fell below the reorder point."

    def handle(self, *args, **options):
        drafts = reorder_drafts_create(actor="command:reorder_drafts")
        for po in drafts:
            self.stdout.write(f"{po.number}: {po.supplier.name} -> {po.location.code}, {po.lines.count()} line(s)")
        self.stdout.write(self.style.SUCCESS(f"{len(drafts)} purchase order(s) drafted."))
