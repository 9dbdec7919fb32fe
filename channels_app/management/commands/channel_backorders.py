"""``channel_backorders CODE --policy allow|reject|cancel_after_days [--days N]``."""

from django.core.management.base import BaseCommand, CommandError

from channels_app.backorders import channel_backorder_policy_set
from channels_app.models import SalesChannel
from inventory.errors import DomainError


class Command(BaseCommand):
    help = "Set what a channel does with units no stock covers: backorder, reject, or cancel after N days."

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--policy", required=True, choices=SalesChannel.BackorderPolicy.values)
        parser.add_argument("--days", type=int, default=None, help="With cancel_after_days: after how many days.")

    def handle(self, *args, code, policy, days, **options):
        channel = SalesChannel.objects.filter(code=code).first()
        if channel is None:
            raise CommandError(f"Unknown channel {code!r}.", returncode=2)
        try:
            channel_backorder_policy_set(channel=channel, policy=policy, days=days)
        except DomainError as exc:
            raise CommandError("; ".join(f"{e.attr}: {e.detail}" for e in exc.items), returncode=2) from None
        after = f" after {days} days" if days else ""
        self.stdout.write(f"Channel {code}: backorder policy {policy}{after}.")
