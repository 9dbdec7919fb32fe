"""The floor's staff screens, mounted at ``/floor/`` (config.urls)."""

from django.urls import path

from . import admin_views as views

urlpatterns = [
    path("", views.floor_home, name="floor-home"),
    path("pick-lists/<int:pk>/", views.pick_list_print, name="floor-pick-list"),
    path("<str:station>/", views.station_start, name="floor-station"),
    path("<str:station>/<int:pk>/", views.station_shipment, name="floor-station-shipment"),
    path("<str:station>/<int:pk>/scan/", views.station_scan, name="floor-station-scan"),
    path("<str:station>/<int:pk>/reset/", views.station_reset, name="floor-station-reset"),
    path("<str:station>/<int:pk>/pack/", views.pack_submit, name="floor-station-pack"),
    path("<str:station>/<int:pk>/label.pdf", views.station_label, name="floor-station-label"),
]
