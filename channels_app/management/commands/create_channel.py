from django.core.management.base import BaseCommand, CommandError

from channels_app.models import SalesChannel
from channels_app.services import channel_create
from inventory.errors import DomainError


class Command(BaseCommand):
    help = "Create a sales channel and print its API key (shown once, stored hashed)."

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--name", required=True)
        parser.add_argument("--kind", required=True, choices=SalesChannel.Kind.values)
        parser.add_argument("--currency", default="USD")

    def handle(self, *args, code, name, kind, currency, **options):
        try:
            channel, raw_key = channel_create(code=code, name=name, kind=kind, currency=currency)
        except DomainError as exc:
            raise CommandError(exc.detail) from None
        self.stdout.write(f"Created channel {channel.code} ({channel.get_kind_display()}).")
        self.stdout.write("API key (shown once, store it now):")
        self.stdout.write(raw_key)
