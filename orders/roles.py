"""Staff roles: one Django group per job on the floor, with the permissions that job needs.

A picker cannot ship or refund; a packer packs; shipping hands parcels to
carriers; returns handles RMAs and refunds; inventory keeps stock; a manager
may do everything. ``ensure_roles`` is idempotent (it only adds what is
missing) and runs after every ``migrate`` and from ``python manage.py
create_roles``.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction

# "app_label.codename", or "app_label.*" for every permission of an app (apps may still be growing).
ROLES: dict[str, list[str]] = {
    "picker": [
        "orders.view_order",
        "orders.view_shipment",
        "orders.pick_shipment",
        "orders.view_picklist",
        "orders.add_picklist",
        "inventory.view_product",
        "inventory.view_stockitem",
        "inventory.view_location",
    ],
    "packer": [
        "orders.view_order",
        "orders.view_shipment",
        "orders.pack_shipment",
        "inventory.view_product",
    ],
    "shipping": [
        "orders.view_order",
        "orders.view_shipment",
        "orders.ship_shipment",
        "orders.deliver_shipment",
        "orders.view_fulfilmentpartner",
        "inventory.view_location",
    ],
    "returns": [
        "orders.view_order",
        "orders.view_orderline",
        "orders.view_shipment",
        "inventory.view_product",
        "returns.*",
    ],
    "inventory": [
        "orders.view_order",
        "inventory.*",
    ],
    "manager": [
        "orders.*",
        "inventory.*",
        "returns.*",
        "channels_app.*",
        "metrics.*",
    ],
}


def _resolve(names: list[str]) -> list[Permission]:
    perms: list[Permission] = []
    for name in names:
        app_label, _, codename = name.partition(".")
        qs = Permission.objects.filter(content_type__app_label=app_label)
        perms += list(qs if codename == "*" else qs.filter(codename=codename))
    return perms


@transaction.atomic
def ensure_roles() -> dict[str, Group]:
    """Create the groups and give each its permissions; a re-run adds only what is missing."""
    groups = {}
    for name, perm_names in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*_resolve(perm_names))
        groups[name] = group
    return groups


def on_post_migrate(sender, using="default", apps=None, **kwargs) -> None:
    """After ``migrate``: make sure every app's permissions exist, then the roles."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    if using != "default":
        return
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    ensure_roles()
