"""Back-office pages of metrics, mounted at ``/admin/dashboard/`` (before the admin's own URLs)."""

from django.contrib import admin
from django.urls import path

from .admin_views import dashboard_view

urlpatterns = [
    path("", admin.site.admin_view(dashboard_view), name="metrics-dashboard"),
]
