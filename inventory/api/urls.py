from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import LocationViewSet, ProductViewSet, StockAdjustmentView, StockViewSet

router = SimpleRouter()
router.register("products", ProductViewSet, basename="product")
router.register("locations", LocationViewSet, basename="location")
router.register("stock", StockViewSet, basename="stock")

urlpatterns = [
    path("stock/adjustments/", StockAdjustmentView.as_view(), name="stock-adjustments"),
    *router.urls,
]
