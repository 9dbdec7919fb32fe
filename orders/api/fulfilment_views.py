"""Fulfilment endpoints (API.md "Staff: fulfilment"): parse, call a service, render."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .. import documents, fulfilment, picking
from ..floor_selectors import pick_list_detail, shipment_for_documents, shipment_list
from ..models import PickList, Shipment
from ..services import actor_for
from .fulfilment_filters import ShipmentFilter
from .fulfilment_permissions import PickListPermission, ShipmentActionPermission
from .fulfilment_serializers import (
    DeliverInputSerializer,
    FloorShipmentSerializer,
    PackInputSerializer,
    PickInputSerializer,
    PickListInputSerializer,
    PickListSerializer,
    ShipInputSerializer,
)


def pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


class ShipmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The pick queue and more; every move of a shipment on the floor."""

    serializer_class = FloorShipmentSerializer
    permission_classes = [ShipmentActionPermission]
    filterset_class = ShipmentFilter
    queryset = Shipment.objects.none()

    def get_queryset(self):
        return shipment_list()

    def _render(self, shipment: Shipment, code=status.HTTP_200_OK) -> Response:
        return Response(FloorShipmentSerializer(shipment_list().get(pk=shipment.pk)).data, status=code)

    @extend_schema(request=PickInputSerializer, responses={200: FloorShipmentSerializer})
    @action(detail=True, methods=["post"])
    def pick(self, request, pk=None):
        shipment = self.get_object()
        data = PickInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        picking.shipment_pick(shipment=shipment, lines=data.quantities(), actor=actor_for(request.user))
        return self._render(shipment)

    @extend_schema(request=PackInputSerializer, responses={200: FloorShipmentSerializer})
    @action(detail=True, methods=["post"])
    def pack(self, request, pk=None):
        shipment = self.get_object()
        data = PackInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fulfilment.shipment_pack(shipment=shipment, actor=actor_for(request.user), **data.validated_data)
        return self._render(shipment)

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
            actor=actor_for(request.user),
        )
        return self._render(shipment)

    @extend_schema(request=DeliverInputSerializer, responses={200: FloorShipmentSerializer})
    @action(detail=True, methods=["post"])
    def deliver(self, request, pk=None):
        shipment = self.get_object()
        data = DeliverInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fulfilment.shipment_deliver(
            shipment=shipment, delivered_at=data.validated_data["delivered_at"], actor=actor_for(request.user)
        )
        return self._render(shipment)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def label(self, request, pk=None):
        shipment = get_object_or_404(self.get_queryset(), pk=pk)
        shipment = shipment_for_documents(pk=shipment.pk)
        return pdf_response(documents.label_pdf(shipment), f"label-{shipment.number}.pdf")

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def packing_slip(self, request, pk=None):
        shipment = get_object_or_404(self.get_queryset(), pk=pk)
        shipment = shipment_for_documents(pk=shipment.pk)
        return pdf_response(documents.packing_slip_pdf(shipment), f"packing-slip-{shipment.number}.pdf")


class PickListViewSet(mixins.CreateModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Waves: ``POST`` makes one from the pick queue; ``GET {id}/`` and ``{id}.pdf`` print it."""

    serializer_class = PickListSerializer
    permission_classes = [PickListPermission]
    queryset = PickList.objects.none()

    def get_queryset(self):
        return PickList.objects.select_related("location")

    def retrieve(self, request, pk=None):
        get_object_or_404(self.get_queryset(), pk=pk)
        return Response(PickListSerializer(pick_list_detail(pk=pk)).data)

    @extend_schema(request=PickListInputSerializer, responses={201: PickListSerializer})
    def create(self, request):
        data = PickListInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pick_list = picking.pick_list_create(
            location_code=data.validated_data["location"],
            max_shipments=data.validated_data["max_shipments"],
            actor=actor_for(request.user),
        )
        return Response(PickListSerializer(pick_list_detail(pk=pick_list.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def pdf(self, request, pk=None):
        get_object_or_404(self.get_queryset(), pk=pk)
        pick_list = pick_list_detail(pk=pk)
        return pdf_response(documents.pick_list_pdf(pick_list), f"pick-list-{pick_list.number}.pdf")
