from django.urls import path
from rest_framework.routers import SimpleRouter

from .fulfilment_views import PickListViewSet, ShipmentViewSet
from .partner_views import PartnerShipmentViewSet

router = SimpleRouter()
router.register("shipments", ShipmentViewSet, basename="shipment")
router.register("pick-lists", PickListViewSet, basename="pick-list")
router.register("partner/shipments", PartnerShipmentViewSet, basename="partner-shipment")

urlpatterns = [
    path("shipments/<int:pk>/label.pdf", ShipmentViewSet.as_view({"get": "label"}), name="shipment-label"),
    path(
        "shipments/<int:pk>/packing-slip.pdf",
        ShipmentViewSet.as_view({"get": "packing_slip"}),
        name="shipment-packing-slip",
    ),
    path("pick-lists/<int:pk>.pdf", PickListViewSet.as_view({"get": "pdf"}), name="pick-list-pdf"),
    *router.urls,
]
