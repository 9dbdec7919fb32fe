"""Partner endpoints (API.md "Channels and partners"): a partner key sees only its location's shipments."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from .. import fulfilment
from ..floor_selectors import shipment_list
from ..models import Shipment
from ..partner_auth import request_partner
from .fulfilment_filters import ShipmentFilter
from .fulfilment_serializers import DeliverInputSerializer, FloorShipmentSerializer, ShipInputSerializer


class IsPartner(BasePermission):
    message = "Partner keys only."

    def has_permission(self, request, view):
        return request_partner(request) is not None


class PartnerShipmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = FloorShipmentSerializer
    permission_classes = [IsPartner]
    filterset_class = ShipmentFilter
    queryset = Shipment.objects.none()

    def get_queryset(self):
        partner = request_partner(self.request)
        if partner is None:
            return Shipment.objects.none()
        return shipment_list(location_id=partner.location.pk)

    def _actor(self) -> str:
        return request_partner(self.request).username

    @extend_schema(request=ShipInputSerializer, responses={200: FloorShipmentSerializer})
    @action(detail=True, methods=["post"])
    def ship(self, request, pk=None):
        shipment = self.get_object()
        data = ShipInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fulfilment.shipment_ship(
            shipment=shipment,
            carrier=data.validated_data["carrier"],
            tracking_number=data.validated_data.get("tracking_number"),
            service=data.validated_data["service"],
            actor=self._actor(),
        )
        return Response(FloorShipmentSerializer(self.get_queryset().get(pk=shipment.pk)).data)

    @extend_schema(request=DeliverInputSerializer, responses={200: FloorShipmentSerializer})
    @action(detail=True, methods=["post"])
    def deliver(self, request, pk=None):
        shipment = self.get_object()
        data = DeliverInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fulfilment.shipment_deliver(
            shipment=shipment, delivered_at=data.validated_data["delivered_at"], actor=self._actor()
        )
        return Response(FloorShipmentSerializer(self.get_queryset().get(pk=shipment.pk)).data)
