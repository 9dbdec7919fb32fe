from django.core.management.base import BaseCommand

from orders.tracking import poll_round


class Command(BaseCommand):
    help = "Run one round of carrier tracking polls now (what the beat task does every 10 minutes)."

    def handle(self, *args, **options):
        results = poll_round()
        for shipment_id, outcome in results.items():
            self.stdout.write(f"shipment {shipment_id}: {outcome}")
        self.stdout.write(f"{len(results)} shipment(s) polled.")
