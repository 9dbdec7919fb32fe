"""Fulfilment API shapes (API.md "Staff: fulfilment"). Parse and render only."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import PickList, Shipment
from ..picking import MAX_WAVE
from .serializers import ShipmentLineSerializer


class FloorShipmentLineSerializer(ShipmentLineSerializer):
    name = serializers.CharField(source="order_line.name")
    bin = serializers.CharField(source="stock_item.bin")


class FloorShipmentSerializer(serializers.ModelSerializer):
    """A shipment as the floor sees it: the order's shipment fields plus the wave, tote and parcel."""

    number = serializers.CharField(read_only=True)
    location = serializers.CharField(source="location.code")
    order = serializers.IntegerField(source="order_id")
    order_number = serializers.CharField(source="order.number")
    promised_delivery_date = serializers.DateField(source="order.promised_delivery_date", allow_null=True)
    pick_list = serializers.IntegerField(source="pick_list_id", allow_null=True)
    lines = FloorShipmentLineSerializer(many=True)

    class Meta:
        model = Shipment
        fields = [
            "id",
            "number",
            "order",
            "order_number",
            "location",
            "fulfillment",
            "status",
            "carrier",
            "service",
            "tracking_number",
            "tracking_url",
            "label_url",
            "pick_list",
            "tote",
            "weight_grams",
            "length_mm",
            "width_mm",
            "height_mm",
            "promised_delivery_date",
            "created_at",
            "picked_at",
            "packed_at",
            "shipped_at",
            "delivered_at",
            "lines",
        ]


class PickListInputSerializer(serializers.Serializer):
    location = serializers.CharField(max_length=32)
    max_shipments = serializers.IntegerField(min_value=1, max_value=MAX_WAVE, required=False, default=50)


class PickListLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField(required=False)
    bin = serializers.CharField(allow_blank=True)
    quantity = serializers.IntegerField()


class ToteSerializer(serializers.Serializer):
    shipment = serializers.IntegerField(source="id")
    number = serializers.CharField()
    tote = serializers.CharField()
    order_number = serializers.CharField(source="order.number")


class PickListSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    location = serializers.CharField(source="location.code")
    shipments = serializers.SerializerMethodField()
    totes = serializers.SerializerMethodField()
    lines = PickListLineSerializer(many=True)

    class Meta:
        model = PickList
        fields = ["id", "number", "location", "created_at", "created_by", "shipments", "totes", "lines"]

    def get_shipments(self, pick_list: PickList) -> list[int]:
        return [s.pk for s in pick_list.shipments.all()]

    @extend_schema_field(ToteSerializer(many=True))
    def get_totes(self, pick_list: PickList) -> list[dict]:
        return ToteSerializer(pick_list.shipments.all(), many=True).data


class PickLineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=0, max_value=100_000)


class PickInputSerializer(serializers.Serializer):
    lines = PickLineInputSerializer(many=True, max_length=500)

    def quantities(self) -> dict[str, int]:
        got: dict[str, int] = {}
        for line in self.validated_data["lines"]:
            got[line["sku"]] = got.get(line["sku"], 0) + line["quantity"]
        return got


class PackInputSerializer(serializers.Serializer):
    weight_grams = serializers.IntegerField(min_value=1, max_value=10_000_000)
    length_mm = serializers.IntegerField(min_value=1, max_value=10_000_000)
    width_mm = serializers.IntegerField(min_value=1, max_value=10_000_000)
    height_mm = serializers.IntegerField(min_value=1, max_value=10_000_000)


class ShipInputSerializer(serializers.Serializer):
    carrier = serializers.CharField(max_length=50)
    tracking_number = serializers.CharField(max_length=100, required=False, allow_null=True, allow_blank=True)
    service = serializers.CharField(max_length=50, required=False, default="", allow_blank=True)


class DeliverInputSerializer(serializers.Serializer):
    delivered_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
