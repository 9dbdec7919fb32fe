"""``channel_keys CODE``: list a channel's keys; ``--create NAME`` issues one (shown once); ``--revoke LOOKUP``."""

from django.core.management.base import BaseCommand, CommandError

from channels_app.models import ChannelKey, SalesChannel
from channels_app.services import channel_key_create, channel_key_revoke


class Command(BaseCommand):
    help = "List, issue (printed once, stored hashed) or revoke a sales channel's API keys."

    def add_arguments(self, parser):
        parser.add_argument("code")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--create", metavar="NAME", help="Issue a new key with this name and print it once.")
        group.add_argument("--revoke", metavar="LOOKUP", help="Revoke the key whose public prefix is LOOKUP.")

    def handle(self, *args, code, create, revoke, **options):
        channel = SalesChannel.objects.filter(code=code).first()
        if channel is None:
            raise CommandError(f"Unknown channel {code!r}.", returncode=2)
        if create:
            key, raw = channel_key_create(channel=channel, name=create)
            self.stdout.write(f"New key {key.name!r} for {channel.code} (shown once, store it now):")
            self.stdout.write(raw)
            return
        if revoke:
            key = ChannelKey.objects.filter(channel=channel, lookup=revoke).first()
            if key is None:
                raise CommandError(f"Channel {code} has no key {revoke!r}.", returncode=2)
            channel_key_revoke(key=key)
            self.stdout.write(f"Revoked {key.lookup} ({key.name}).")
            return
        for key in channel.keys.all():
            state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "live"
            used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
            self.stdout.write(f"{key.lookup}  {key.name:<20} {state:<22} last used {used}")
