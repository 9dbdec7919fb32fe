from django.core.management.base import BaseCommand

from orders.roles import ensure_roles


class Command(BaseCommand):
    help = "Create the staff groups (picker, packer, shipping, returns, inventory, manager) with their permissions."

    def handle(self, *args, **options):
        for name, group in ensure_roles().items():
            self.stdout.write(f"{name}: {group.permissions.count()} permissions")
