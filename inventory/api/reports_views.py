"""Stock reports: low stock, dead stock and overstock (both valued at cost)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError

from .. import selectors
from ..models import StockItem
from .permissions import StaffModelPermissions


class LowStockSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku")
    name = serializers.CharField(source="product.name")
    location = serializers.CharField(source="location.code")
    available = serializers.IntegerField(source="available_now")
    incoming = serializers.IntegerField(help_text="Units on open purchase orders (drafts included).")

    class Meta:
        model = StockItem
        fields = [
            "id",
            "sku",
            "name",
            "location",
            "on_hand",
            "reserved",
            "available",
            "incoming",
            "reorder_point",
            "reorder_quantity",
        ]


class DeadStockSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku")
    name = serializers.CharField(source="product.name")
    location = serializers.CharField(source="location.code")
    unit_cost = serializers.DecimalField(source="product.cost", max_digits=12, decimal_places=2)
    value = serializers.DecimalField(max_digits=16, decimal_places=2, help_text="on_hand x unit cost")
    last_shipped_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        model = StockItem
        fields = ["id", "sku", "name", "location", "on_hand", "unit_cost", "value", "last_shipped_at"]


class OverstockSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku")
    name = serializers.CharField(source="product.name")
    location = serializers.CharField(source="location.code")
    over = serializers.IntegerField(help_text="Units on hand above max_stock.")
    unit_cost = serializers.DecimalField(source="product.cost", max_digits=12, decimal_places=2)
    value = serializers.DecimalField(max_digits=16, decimal_places=2, help_text="over x unit cost")

    class Meta:
        model = StockItem
        fields = ["id", "sku", "name", "location", "on_hand", "reserved", "max_stock", "over", "unit_cost", "value"]


_location = OpenApiParameter("location", str, description="A location code.")


class LowStockView(generics.ListAPIView):
    """``GET /api/v1/stock/low/`` — rows at or below their reorder point, with what is on order."""

    queryset = StockItem.objects.none()
    serializer_class = LowStockSerializer
    permission_classes = [StaffModelPermissions]
    filterset_class = None

    def get_queryset(self):
        return selectors.stock_low(location=self.request.query_params.get("location"))

    @extend_schema(parameters=[_location])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class DeadStockView(generics.ListAPIView):
    """``GET /api/v1/stock/dead/?days=90`` — on hand, nothing shipped in N days, valued at cost."""

    queryset = StockItem.objects.none()
    serializer_class = DeadStockSerializer
    permission_classes = [StaffModelPermissions]
    filterset_class = None

    def _days(self) -> int:
        raw = self.request.query_params.get("days", "90")
        if not raw.isdigit() or not 1 <= int(raw) <= 3650:
            raise ValidationError({"days": ["days must be a whole number from 1 to 3650."]})
        return int(raw)

    def get_queryset(self):
        return selectors.stock_dead(days=self._days(), location=self.request.query_params.get("location"))

    @extend_schema(
        parameters=[
            OpenApiParameter("days", int, description="Nothing shipped in this many days (default 90)."),
            _location,
        ]
    )
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response.data["days"] = self._days()
        response.data["total_value"] = str(
            selectors.stock_dead_value(days=self._days(), location=request.query_params.get("location"))
        )
        return response


class OverstockView(generics.ListAPIView):
    """``GET /api/v1/stock/overstock/`` — rows holding more than their max_stock, the excess valued at cost."""

    queryset = StockItem.objects.none()
    serializer_class = OverstockSerializer
    permission_classes = [StaffModelPermissions]
    filterset_class = None

    def get_queryset(self):
        return selectors.stock_over(location=self.request.query_params.get("location"))

    @extend_schema(
        parameters=[_location],
        description="Stock rows whose on hand exceeds their `max_stock` (set per stock row; empty means no "
        "maximum). `over` is on hand minus max_stock, `value` = over x the product's cost; `total_value` "
        "sums every matching row (all pages).",
    )
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response.data["total_value"] = str(selectors.stock_over_value(location=request.query_params.get("location")))
        return response
