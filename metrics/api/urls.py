from django.urls import path

from .views import KpiSeriesView, KpiView

urlpatterns = [
    path("metrics/kpis/", KpiView.as_view(), name="metrics-kpis"),
    path("metrics/kpis/series/", KpiSeriesView.as_view(), name="metrics-kpis-series"),
]
