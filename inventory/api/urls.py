from django.urls import path
from rest_framework.routers import SimpleRouter

from .purchasing_views import PurchaseOrderViewSet, SupplierProductViewSet, SupplierViewSet
from .reports_views import DeadStockView, LowStockView, OverstockView
from .stock_views import StockCountView, StockTransferView
from .views import LocationViewSet, ProductViewSet, StockAdjustmentView, StockViewSet

router = SimpleRouter()
router.register("products", ProductViewSet, basename="product")
router.register("locations", LocationViewSet, basename="location")
router.register("stock", StockViewSet, basename="stock")
router.register("suppliers", SupplierViewSet, basename="supplier")
router.register("supplier-products", SupplierProductViewSet, basename="supplier-product")
router.register("purchase-orders", PurchaseOrderViewSet, basename="purchase-order")

urlpatterns = [
    path("stock/adjustments/", StockAdjustmentView.as_view(), name="stock-adjustments"),
    path("stock/transfers/", StockTransferView.as_view(), name="stock-transfers"),
    path("stock/counts/", StockCountView.as_view(), name="stock-counts"),
    path("stock/low/", LowStockView.as_view(), name="stock-low"),
    path("stock/dead/", DeadStockView.as_view(), name="stock-dead"),
    path("stock/overstock/", OverstockView.as_view(), name="stock-overstock"),
    *router.urls,
]
