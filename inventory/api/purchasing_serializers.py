"""Suppliers, their SKUs and costs, and purchase orders (API.md "Staff: catalogue, locations and stock")."""

from __future__ import annotations

from rest_framework import serializers

from ..models import Product, PurchaseOrder, PurchaseOrderLine, Supplier, SupplierProduct
from ..purchasing import POLineInput, ReceiptLineInput


class SupplierSerializer(serializers.ModelSerializer):
    received_count = serializers.IntegerField(read_only=True, default=0, help_text="Purchase orders fully received.")
    on_time_rate_pct = serializers.SerializerMethodField(help_text="Received on or before expected_on, in percent.")
    lead_time_days_avg = serializers.SerializerMethodField(help_text="Real lead time: mean days sent to received.")

    class Meta:
        model = Supplier
        fields = [
            "id",
            "name",
            "email",
            "lead_time_days",
            "active",
            "received_count",
            "on_time_rate_pct",
            "lead_time_days_avg",
        ]

    def get_on_time_rate_pct(self, supplier) -> float | None:
        rated = getattr(supplier, "rated_count", 0)
        return round(100 * supplier.on_time_count / rated, 2) if rated else None

    def get_lead_time_days_avg(self, supplier) -> float | None:
        value = getattr(supplier, "lead_time_days_avg", None)
        return round(float(value), 2) if value is not None else None


class SupplierProductSerializer(serializers.ModelSerializer):
    sku = serializers.SlugRelatedField(source="product", slug_field="sku", queryset=Product.objects.all())
    unit_cost = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)

    class Meta:
        model = SupplierProduct
        fields = ["id", "supplier", "sku", "supplier_sku", "unit_cost", "preferred"]


class POLineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    unit_cost = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True, default=None
    )


class PurchaseOrderInputSerializer(serializers.Serializer):
    supplier = serializers.PrimaryKeyRelatedField(queryset=Supplier.objects.all())
    location = serializers.CharField(max_length=32)
    expected_on = serializers.DateField(required=False, allow_null=True, default=None)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    lines = POLineInputSerializer(many=True, allow_empty=False, max_length=500)

    def line_inputs(self) -> list[POLineInput]:
        return [POLineInput(**line) for line in self.validated_data["lines"]]


class ReceiptLineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)


class ReceiveInputSerializer(serializers.Serializer):
    lines = ReceiptLineSerializer(many=True, allow_empty=False, max_length=500)
    received_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def line_inputs(self) -> list[ReceiptLineInput]:
        return [ReceiptLineInput(**line) for line in self.validated_data["lines"]]


class CancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class PurchaseOrderLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku")
    name = serializers.CharField(source="product.name")

    class Meta:
        model = PurchaseOrderLine
        fields = ["sku", "name", "quantity", "quantity_received", "unit_cost"]


class PurchaseOrderSerializer(serializers.ModelSerializer):
    supplier_name = serializers.CharField(source="supplier.name")
    location = serializers.CharField(source="location.code")
    lines = PurchaseOrderLineSerializer(many=True)
    total = serializers.SerializerMethodField()

    class Meta:
        model = PurchaseOrder
        fields = [
            "id",
            "number",
            "supplier",
            "supplier_name",
            "location",
            "status",
            "expected_on",
            "notes",
            "created_at",
            "sent_at",
            "received_at",
            "cancelled_at",
            "lead_time_days",
            "on_time",
            "lines",
            "total",
        ]

    def get_total(self, po) -> str:
        return str(sum((ln.unit_cost * ln.quantity for ln in po.lines.all()), 0))
