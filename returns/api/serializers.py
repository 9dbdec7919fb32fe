"""Return API shapes (API.md ``/api/v1/returns/``). Parse and render only; rules live in services."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .. import selectors, services
from ..models import (
    Disposition,
    Refund,
    ReplacementLine,
    Resolution,
    Return,
    ReturnLine,
    ReturnReason,
    ReturnReceipt,
)


class ReturnLineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=services.MAX_QUANTITY)
    reason = serializers.ChoiceField(choices=ReturnReason.values)


class ReturnReplacementInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=services.MAX_QUANTITY)


class ReturnInputSerializer(serializers.Serializer):
    order = serializers.IntegerField(min_value=1, help_text="The order's id.")
    lines = ReturnLineInputSerializer(many=True, min_length=1, max_length=services.MAX_LINES, allow_empty=False)
    resolution = serializers.ChoiceField(choices=Resolution.values, required=False, default=Resolution.REFUND)
    note = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)
    replacements = ReturnReplacementInputSerializer(
        many=True,
        required=False,
        default=list,
        max_length=services.MAX_LINES,
        help_text="An exchange: what to send instead.",
    )

    def service_kwargs(self) -> dict:
        d = self.validated_data
        return {
            "lines": [services.ReturnLineInput(**line) for line in d["lines"]],
            "resolution": d["resolution"],
            "note": d["note"],
            "replacements": [services.ReplacementInput(**r) for r in d["replacements"]],
        }


class ReturnRejectInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class ReturnReceiveLineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=services.MAX_QUANTITY)
    disposition = serializers.ChoiceField(choices=Disposition.values)
    condition = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class ReturnReceiveInputSerializer(serializers.Serializer):
    lines = ReturnReceiveLineInputSerializer(
        many=True, min_length=1, max_length=services.MAX_LINES * 10, allow_empty=False
    )
    location = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        default="",
        help_text="Restock here instead of where it shipped from.",
    )


class ReturnCloseInputSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        allow_null=True,
        default=None,
        help_text="Default: what was paid for the returned units (less an exchange).",
    )
    method = serializers.ChoiceField(
        choices=Refund.Method.values, required=False, default=Refund.Method.ORIGINAL_PAYMENT
    )
    reference = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)


class ReturnReceiptSerializer(serializers.ModelSerializer):
    location = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = ReturnReceipt
        fields = ["disposition", "quantity", "condition", "location", "unit_cost", "received_at"]


class ReturnLineSerializer(serializers.ModelSerializer):
    receipts = ReturnReceiptSerializer(many=True, read_only=True)

    class Meta:
        model = ReturnLine
        fields = [
            "id",
            "order_line",
            "sku",
            "quantity",
            "quantity_requested",
            "reason",
            "unit_price",
            "quantity_received",
            "quantity_restocked",
            "quantity_scrapped",
            "receipts",
        ]


class ReturnReplacementLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReplacementLine
        fields = ["sku", "quantity", "unit_price"]


class ReturnRefundSerializer(serializers.ModelSerializer):
    class Meta:
        model = Refund
        fields = ["amount", "currency", "method", "reference", "created_at"]


class ReturnSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    order = serializers.IntegerField(source="order_id")
    order_number = serializers.CharField(source="order.number")
    channel = serializers.CharField(source="order.channel.code")
    currency = serializers.CharField(source="order.currency")
    customer_email = serializers.EmailField(source="order.customer.email")
    lines = ReturnLineSerializer(many=True)
    replacement_lines = ReturnReplacementLineSerializer(many=True)
    exchange_order = serializers.IntegerField(source="exchange_order_id", allow_null=True)
    exchange_order_number = serializers.SerializerMethodField()
    refund_amount = serializers.SerializerMethodField()
    refunds = ReturnRefundSerializer(many=True)

    class Meta:
        model = Return
        fields = [
            "id",
            "number",
            "order",
            "order_number",
            "channel",
            "status",
            "resolution",
            "currency",
            "customer_email",
            "note",
            "lines",
            "replacement_lines",
            "exchange_order",
            "exchange_order_number",
            "refund_amount",
            "refunds",
            "rejection_reason",
            "requested_at",
            "approved_at",
            "received_at",
            "closed_at",
            "rejected_at",
            "updated_at",
        ]

    def get_exchange_order_number(self, rma: Return) -> str | None:
        return rma.exchange_order.number if rma.exchange_order_id else None

    @extend_schema_field(serializers.DecimalField(max_digits=14, decimal_places=2))
    def get_refund_amount(self, rma: Return) -> str:
        """Refunded or credited once closed; until then what closing would pay by default."""
        return str(selectors.return_amount(rma))
