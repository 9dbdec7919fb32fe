"""``configure_channel CODE --connector shopify|woocommerce --base-url URL --token TOKEN [--secret S]``."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from channels_app.models import ChannelConnector, SalesChannel
from channels_app.pulls import connector_configure
from inventory.errors import DomainError


class Command(BaseCommand):
    help = "Connect a sales channel to Shopify or WooCommerce, so its orders are pulled (secrets never printed)."

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--connector", required=True, choices=ChannelConnector.Kind.values)
        parser.add_argument("--base-url", required=True, help="https://shop.myshopify.com or https://store.example")
        parser.add_argument("--token", required=True, help="Shopify access token, or WooCommerce consumer key.")
        parser.add_argument("--secret", default="", help="WooCommerce consumer secret.")
        parser.add_argument("--api-version", default="", help="Shopify Admin API version, e.g. 2024-10.")
        parser.add_argument("--since", default="", help="Pull orders updated after this ISO time (first pull).")

    def handle(self, *args, code, connector, base_url, token, secret, api_version, since, **options):
        channel = SalesChannel.objects.filter(code=code).first()
        if channel is None:
            raise CommandError(f"Unknown channel {code!r}.", returncode=2)
        since_at = parse_datetime(since) if since else None
        if since and (since_at is None or since_at.tzinfo is None):
            raise CommandError(f"--since {since!r} is not an ISO 8601 time with an offset.", returncode=2)
        try:
            config = connector_configure(
                channel=channel,
                kind=connector,
                base_url=base_url,
                token=token,
                secret=secret,
                api_version=api_version,
                since=since_at,
            )
        except DomainError as exc:
            raise CommandError(exc.detail, returncode=2) from None
        self.stdout.write(
            f"Channel {code} pulls from {config.get_kind_display()} at {config.base_url} "
            f"(token …{config.token[-4:]}{', secret set' if config.secret else ''})."
        )
