from inventory.api.permissions import (  # noqa: F401 - one definition, shared by every app's API
    ChannelOrStaffModelPermissions,
    IsChannelOrStaff,
    IsStaff,
    StaffModelPermissions,
    request_channel,
)
