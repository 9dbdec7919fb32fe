from rest_framework.routers import SimpleRouter

from .views import InboundOrderViewSet, OrderIntakeViewSet, WebhookEndpointViewSet

router = SimpleRouter()
router.register("inbound-orders", InboundOrderViewSet, basename="inbound-order")
router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")
# Registered before orders.api.urls in config/urls.py, so POST /orders/ stages the payload first.
router.register("orders", OrderIntakeViewSet, basename="order")

urlpatterns = router.urls
