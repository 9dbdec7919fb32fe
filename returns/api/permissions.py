from inventory.api.permissions import IsStaff


class CanProcessReturns(IsStaff):
    """Staff who may work returns (the ``returns`` group: ``returns.change_return``); never a channel key."""

    message = "Staff with the returns permission only."

    def has_permission(self, request, view):
        return super().has_permission(request, view) and request.user.has_perm("returns.change_return")
