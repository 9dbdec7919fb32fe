"""``manage.py drf_create_token USER``: a staff API token, printed once (the name API.md gives).

Replaces DRF's command of the same name, whose tokens were stored in plain
text: this one stores only the token's digest (``inventory.apikeys``).
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from inventory.apikeys import staff_token_create, staff_tokens_revoke


class Command(BaseCommand):
    help = "Create an API token for a staff user and print it once (only its digest is stored)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="default", help="What the token is for, e.g. 'warehouse scanner'.")
        parser.add_argument(
            "-r", "--reset", action="store_true", help="Revoke the user's other tokens before making the new one."
        )
        parser.add_argument(
            "--revoke", action="store_true", help="Only revoke every token of the user; make no new one."
        )

    def handle(self, *args, username, name, reset, revoke, **options):
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            raise CommandError(f"Cannot create the token: user {username} does not exist.")
        if revoke or reset:
            count = staff_tokens_revoke(user=user)
            self.stderr.write(f"Revoked {count} token(s) of user {username}.")
            if revoke:
                return
        _, raw = staff_token_create(user=user, name=name)
        self.stdout.write(f"Generated token {raw} for user {username}")
