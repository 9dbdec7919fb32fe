"""``python manage.py check_stock``: prove the stock counters tell the truth; exit 1 on drift."""

from django.core.management.base import BaseCommand

from inventory.selectors import stock_drift


class Command(BaseCommand):
    help = "Check that on_hand equals the ledger sum and reserved equals open reservations, per stock row."

    def handle(self, *args, **options):
        drift = stock_drift()
        if not drift:
            self.stdout.write(
                self.style.SUCCESS("Stock is consistent: ledger = on_hand, reserved = open reservations.")
            )
            return
        for row in drift:
            self.stderr.write(row.describe())
        self.stderr.write(self.style.ERROR(f"{len(drift)} stock row(s) drifted."))
        raise SystemExit(1)
