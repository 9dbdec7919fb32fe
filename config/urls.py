from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

api_v1 = [
    # channels_app first: its OrderIntakeViewSet serves /orders/ (keeps every push raw, with the orders API's logic).
    path("", include("channels_app.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("inventory.api.urls")),
    path("", include("returns.api.urls")),
    path("", include("metrics.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/dashboard/", include("metrics.urls")),  # before admin/: the admin's catch-all would 404 it
    path("admin/", admin.site.urls),
    path("floor/", include("orders.station_urls")),
    path("api/v1/", include(api_v1)),
]

admin.site.site_header = "OMS back office"
admin.site.site_title = "OMS"
admin.site.index_title = "Orders, stock and fulfilment"
