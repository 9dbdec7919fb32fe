from django.urls import include, path
from rest_framework.routers import SimpleRouter

from .routing_views import OrderRoutingView, SourcingSimulateView
from .views import AvailabilityView, OrderViewSet

router = SimpleRouter()
router.register("orders", OrderViewSet, basename="order")

urlpatterns = [
    path("availability/", AvailabilityView.as_view(), name="availability"),
    path("orders/<int:pk>/routing/", OrderRoutingView.as_view(), name="order-routing"),
    path("sourcing/simulate/", SourcingSimulateView.as_view(), name="sourcing-simulate"),
    path("", include("orders.api.fulfilment_urls")),
    *router.urls,
]
