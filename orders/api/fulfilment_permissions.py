"""Who may do what on the floor: staff whose groups grant the action's permission (orders.roles)."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from .permissions import IsStaff

# View action -> the permission it needs; anything unlisted needs view_shipment.
SHIPMENT_ACTION_PERMS = {
    "pick": "orders.pick_shipment",
    "pack": "orders.pack_shipment",
    "ship": "orders.ship_shipment",
    "deliver": "orders.deliver_shipment",
}


class ShipmentActionPermission(BasePermission):
    message = "Your role may not do this to a shipment."

    def has_permission(self, request, view):
        if not IsStaff().has_permission(request, view):
            return False
        needed = SHIPMENT_ACTION_PERMS.get(getattr(view, "action", None) or "", "orders.view_shipment")
        return request.user.has_perm(needed)


class PickListPermission(BasePermission):
    message = "Your role may not make or read pick lists."

    def has_permission(self, request, view):
        if not IsStaff().has_permission(request, view):
            return False
        needed = "orders.view_picklist" if request.method in ("GET", "HEAD", "OPTIONS") else "orders.add_picklist"
        return request.user.has_perm(needed)


def can(user, action: str) -> bool:
    """For templates and stations: may this user do ``action`` (pick, pack, ship, deliver)?"""
    return bool(user and user.is_authenticated and user.is_staff and user.has_perm(SHIPMENT_ACTION_PERMS[action]))
