"""Staff endpoints for suppliers and purchase orders: parse, call a service, render."""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .. import purchasing, selectors
from ..models import PurchaseOrder, PurchaseOrderLine, Supplier, SupplierProduct
from .permissions import StaffModelPermissions
from .purchasing_serializers import (
    CancelInputSerializer,
    PurchaseOrderInputSerializer,
    PurchaseOrderSerializer,
    ReceiveInputSerializer,
    SupplierProductSerializer,
    SupplierSerializer,
)


def _actor(request) -> str:
    return f"user:{request.user.get_username()}"


class SupplierViewSet(viewsets.ModelViewSet):
    """``/api/v1/suppliers/`` CRUD, with each supplier's on-time rate and real lead time."""

    queryset = Supplier.objects.all()
    serializer_class = SupplierSerializer
    permission_classes = [StaffModelPermissions]
    filterset_fields = ["active"]

    def get_queryset(self):
        return selectors.supplier_performance()


class SupplierProductFilter(django_filters.FilterSet):
    supplier = django_filters.NumberFilter()
    sku = django_filters.CharFilter(field_name="product__sku")

    class Meta:
        model = SupplierProduct
        fields = []


class SupplierProductViewSet(viewsets.ModelViewSet):
    """``/api/v1/supplier-products/`` — a supplier's SKU and cost for one of our products."""

    queryset = SupplierProduct.objects.select_related("product")
    serializer_class = SupplierProductSerializer
    permission_classes = [StaffModelPermissions]
    filterset_class = SupplierProductFilter


class PurchaseOrderFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=PurchaseOrder.Status.choices)
    supplier = django_filters.NumberFilter()
    location = django_filters.CharFilter(field_name="location__code")

    class Meta:
        model = PurchaseOrder
        fields = []


def _purchase_orders():
    return PurchaseOrder.objects.select_related("supplier", "location").prefetch_related(
        Prefetch("lines", queryset=PurchaseOrderLine.objects.select_related("product").order_by("id"))
    )


class PurchaseOrderViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """``/api/v1/purchase-orders/``: create (draft), send, receive (partly or fully), cancel."""

    queryset = PurchaseOrder.objects.none()
    serializer_class = PurchaseOrderSerializer
    permission_classes = [StaffModelPermissions]
    filterset_class = PurchaseOrderFilter

    def get_queryset(self):
        return _purchase_orders()

    def _render(self, po, code=status.HTTP_200_OK):
        return Response(PurchaseOrderSerializer(_purchase_orders().get(pk=po.pk)).data, status=code)

    @extend_schema(request=PurchaseOrderInputSerializer, responses={201: PurchaseOrderSerializer})
    def create(self, request):
        data = PurchaseOrderInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        po = purchasing.purchase_order_create(
            supplier=d["supplier"],
            location_code=d["location"],
            expected_on=d["expected_on"],
            notes=d["notes"],
            lines=data.line_inputs(),
            actor=_actor(request),
        )
        return self._render(po, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: PurchaseOrderSerializer})
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        po = purchasing.purchase_order_send(po=self.get_object(), actor=_actor(request))
        return self._render(po)

    @extend_schema(request=ReceiveInputSerializer, responses={200: PurchaseOrderSerializer})
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        po = self.get_object()
        data = ReceiveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        po = purchasing.purchase_order_receive(
            po=po, lines=data.line_inputs(), actor=_actor(request), received_at=data.validated_data["received_at"]
        )
        return self._render(po)

    @extend_schema(request=CancelInputSerializer, responses={200: PurchaseOrderSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        po = self.get_object()
        data = CancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        po = purchasing.purchase_order_cancel(po=po, actor=_actor(request), reason=data.validated_data["reason"])
        return self._render(po)
