"""Who may call what: channel keys act as one channel; staff follow Django permissions.

Shared by every app's API, so it lives in the lowest layer.
"""

from rest_framework.permissions import BasePermission, DjangoModelPermissions


def request_channel(request):
    """The sales channel a channel key acts as, or ``None`` for staff."""
    return getattr(request.user, "channel", None)


class IsChannelOrStaff(BasePermission):
    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and (request_channel(request) or user.is_staff))


class IsStaff(BasePermission):
    message = "Staff only: a channel key cannot call this endpoint."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff and request_channel(request) is None)


class StaffModelPermissions(DjangoModelPermissions):
    """Staff whose groups grant the model permission (view for reads, add/change/delete for writes).

    A view may name other permissions for an action that is not plain CRUD:
    ``action_permissions = {"cancel": ["%(app_label)s.change_%(model_name)s"]}``.
    """

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view):
        if not IsStaff().has_permission(request, view):
            return False
        perms = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if perms is None:
            return super().has_permission(request, view)
        meta = self._queryset(view).model._meta
        return request.user.has_perms([p % {"app_label": meta.app_label, "model_name": meta.model_name} for p in perms])


class ChannelOrStaffModelPermissions(StaffModelPermissions):
    """A channel key (scoped to its channel by the view's queryset), or staff with the model permission."""

    def has_permission(self, request, view):
        if request_channel(request) is not None:
            return True
        return super().has_permission(request, view)
