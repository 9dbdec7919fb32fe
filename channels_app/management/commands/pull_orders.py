"""``pull_orders --channel CODE``: one pull from the channel's connector (what the beat schedule runs)."""

from django.core.management.base import BaseCommand, CommandError

from channels_app.connectors import ConnectorError
from channels_app.models import ChannelConnector, SalesChannel
from channels_app.pulls import pull_orders


class Command(BaseCommand):
    help = "Pull new orders from a connected channel (Shopify, WooCommerce) once. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--channel", required=True)

    def handle(self, *args, channel, **options):
        target = SalesChannel.objects.filter(code=channel).first()
        if target is None:
            raise CommandError(f"Unknown channel {channel!r}.", returncode=2)
        if not ChannelConnector.objects.filter(channel=target).exists():
            raise CommandError(f"Channel {channel} has no connector; run configure_channel first.", returncode=2)
        try:
            result = pull_orders(channel=target)
        except ConnectorError as exc:
            raise CommandError(f"Pull failed, cursor unchanged: {exc}", returncode=2) from None
        self.stdout.write(str(result))
        if result.failed:
            raise CommandError(f"{result.failed} order(s) failed; kept for replay.", returncode=1)
